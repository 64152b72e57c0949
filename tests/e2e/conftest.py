"""The local stack, started once per session as a newcomer would (``python -m infra.local``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from infra.local.services import free_port, start_dynamodb
from tests.conftest import TEST_KEY_FILE
from tests.e2e.stores import assert_no_drift
from tests.support.postgres import fresh_database

ROOT = Path(__file__).resolve().parents[2]
READY = "Local stack ready at "
START_TIMEOUT = 120
REFRESH_GRACE_SECONDS = 2
STORES: dict[str, str] = {}  # the running stack's database_url and dynamodb_endpoint


@pytest.fixture(scope="package")  # up for tests/e2e only: its teardown checks drift right after them
def stack_url() -> Iterator[str]:
    port = free_port()
    state = Path(tempfile.mkdtemp(prefix="elements-e2e-"))
    log_path = state / "stack.log"
    with fresh_database() as database_url:
        # DynamoDB runs in this process (the stack adopts it) so tests can inspect the stack's stores.
        dynamodb_endpoint, stop_dynamodb = start_dynamodb()
        STORES.update(database_url=database_url, dynamodb_endpoint=dynamodb_endpoint)
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "SIGNING_KEY_FILE": str(TEST_KEY_FILE),
            "LOCAL_STATE_DIR": str(state),
            "ADMIN_HANDLE": "root_admin",
            "ADMIN_PASSWORD": "root-admin-password",
            # A short refresh grace, so the reuse of a spent refresh token is reached in seconds.
            "REFRESH_GRACE_SECONDS": str(REFRESH_GRACE_SECONDS),
            "PYTHONPATH": os.pathsep.join(str(ROOT / p) for p in ("layers/shared", "functions", ".")),
        }
        env["DYNAMODB_ENDPOINT"] = dynamodb_endpoint
        with log_path.open("w") as log:
            process = subprocess.Popen(  # noqa: S603 - our own module
                [sys.executable, "-m", "infra.local", "--port", str(port)],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                wait_ready(process, log_path)
                yield f"http://127.0.0.1:{port}"
                # After every flow, whatever their order: the read cache has no drift from the truth
                assert_no_drift(STORES)
            finally:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    raise
                stop_dynamodb()
                # SIGTERM is a clean stop: every service it started is stopped, exit status 0
                assert process.returncode == 0, log_path.read_text()[-4000:]


def wait_ready(process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if READY in log_path.read_text():
            return
        if process.poll() is not None:
            raise RuntimeError(f"the local stack exited early:\n{log_path.read_text()}")
        time.sleep(0.1)
    raise RuntimeError(f"the local stack did not start in {START_TIMEOUT}s:\n{log_path.read_text()}")


@pytest.fixture
def stack_stores(stack_url: str) -> dict[str, str]:
    """Where the running stack keeps its data: ``database_url`` and ``dynamodb_endpoint``."""
    return dict(STORES)


@pytest.fixture
def client(stack_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack_url, timeout=30) as http:
        yield http
