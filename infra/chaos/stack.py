"""The local stack as a child process the chaos run can start, SIGKILL and start again."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]
READY = "Local stack ready at "
CATCH_UP = ("Caught up with PostgreSQL", "Read cache level with PostgreSQL", "catch-up with PostgreSQL failed")
START_TIMEOUT_SECONDS = 180


class StackProcess:
    """``python -m infra.local`` on ``port`` with ``env``; each start appends to ``log``."""

    def __init__(self, port: int, env: dict[str, str], log: Path) -> None:
        self.port, self.env, self.log = port, env, log
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> str:
        """Start and wait until it serves; the catch-up line it printed at start."""
        self.starts += 1
        offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(  # noqa: S603 - our own module
                [sys.executable, "-m", "infra.local", "--port", str(self.port)],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            text = self.log.read_bytes()[offset:].decode(errors="replace")
            if READY in text:
                return next((line for line in text.splitlines() if line.startswith(CATCH_UP)), "")
            if self.process.poll() is not None:
                raise RuntimeError(f"the local stack exited while starting:\n{text[-4000:]}")
            time.sleep(0.05)
        raise RuntimeError(f"the local stack did not start in {START_TIMEOUT_SECONDS}s")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs; its in-process DynamoDB (read cache, change feed) is lost."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@contextlib.contextmanager
def persistent_database() -> Iterator[str]:
    """A database that outlives the stack's kills: a fresh one in DATABASE_URL's server, else embedded."""
    base = os.environ.get("DATABASE_URL")
    if base:
        name = f"elements_chaos_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            yield psycopg.conninfo.make_conninfo(base, dbname=name)
        finally:
            with psycopg.connect(base, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        return
    import warnings

    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import pgserver

    server = pgserver.get_server(tempfile.mkdtemp(prefix="elements-chaos-pg-"), cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


def stack_environment(database_url: str, state_dir: Path, admin: tuple[str, str]) -> dict[str, str]:
    """The stack's environment: the caller's, on ``database_url``, its own DynamoDB (lost at every kill)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DYNAMODB_ENDPOINT", "PORT")}
    env.update(
        DATABASE_URL=database_url,
        LOCAL_STATE_DIR=str(state_dir),
        ADMIN_HANDLE=admin[0],
        ADMIN_PASSWORD=admin[1],
        PYTHONPATH=os.pathsep.join(str(ROOT / p) for p in ("layers/shared", "functions", ".")),
    )
    return env
