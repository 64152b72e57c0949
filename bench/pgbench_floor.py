"""PostgreSQL's own benchmark on the same server: the physical floor the ledger is compared with.

``pgbench`` (Debian's ``postgresql-client``) is run against a scratch database on the server the
nickel topic measures on, initialized at scale 1 (one branch row, so ``tpcb-like`` has one hot
row, as hot transfers do; 100,000 accounts, so ``simple-update`` is spread, as spread transfers
are). Its clients are connections driven by pgbench's C threads: no interpreter at all, the
floor the database itself sets on this machine. When pgbench is missing or fails, ``tps`` is
None and ``absent`` says why, so the topic reports the figure as absent instead of failing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg

TPS = re.compile(r"^tps = ([0-9.]+) \(without initial connection time\)", re.MULTILINE)
PROCESSED = re.compile(r"^number of transactions actually processed: ([0-9]+)", re.MULTILINE)
LATENCY = re.compile(r"^latency average = ([0-9.]+) ms", re.MULTILINE)
INSTALL = "install Debian's postgresql-client (apt-get install postgresql-client) for this figure"


@dataclass
class Floor:
    """pgbench on a scratch database of ``base_url``'s server; ``absent`` says why it cannot run."""

    env: dict[str, str]
    absent: str | None = None

    def tps(self, builtin: str, clients: int, seconds: int | None, transactions: int = 0) -> float | None:
        """Transactions per second of pgbench's ``builtin`` script at ``clients`` connections."""
        measured = self.run(["-b", builtin], clients, seconds, transactions)
        return None if measured is None else measured[0]

    def latency(self, builtin: str, seconds: int, *, reconnect: bool) -> float | None:
        """Average latency in ms of pgbench's ``builtin`` script at one client; with ``reconnect``,
        each transaction on a new connection (``-C``): what a transaction costs on a new backend."""
        if self.absent is not None:
            return None
        done = self._pgbench("-b", builtin, "-c", "1", "-T", str(seconds), *(["-C"] if reconnect else []))
        found = LATENCY.search(done) if done is not None else None
        if found is None:
            self.absent = self.absent or f"pgbench printed no latency: {(done or '')[-300:]!r}"
            return None
        return float(found.group(1))

    def run(
        self, script: list[str], clients: int, seconds: int | None, transactions: int = 0
    ) -> tuple[float, float] | None:
        """(transactions per second, average latency in ms) of a pgbench script (``-b name`` or ``-f file``)."""
        if self.absent is not None:
            return None
        length = ["-T", str(seconds)] if seconds else ["-t", str(transactions)]
        done = self._pgbench(*script, *_clients(clients), *length)
        found, latency = (TPS.search(done), LATENCY.search(done)) if done is not None else (None, None)
        if found is None or latency is None:
            self.absent = self.absent or f"pgbench printed no tps: {(done or '')[-300:]!r}"
            return None
        return float(found.group(1)), float(latency.group(1))

    def count(self, script: list[str], clients: int, transactions: int) -> int | None:
        """Run ``transactions`` of a pgbench script on each of ``clients`` connections (``-t``);
        how many it made in all, or None if it could not run."""
        if self.absent is not None:
            return None
        done = self._pgbench(*script, *_clients(clients), "-t", str(transactions))
        found = PROCESSED.search(done) if done is not None else None
        if found is None:
            self.absent = self.absent or f"pgbench printed no count: {(done or '')[-300:]!r}"
            return None
        return int(found.group(1))

    def on(self, url: str) -> Floor:
        """The same pgbench, pointed at ``url``'s database (to drive a script of one's own there)."""
        return Floor(_libpq_env(url), self.absent) if self.env else Floor({}, self.absent)

    def _pgbench(self, *args: str) -> str | None:
        if self.absent is not None:
            return None
        try:
            command = [shutil.which("pgbench") or "pgbench", *args]
            done = subprocess.run(  # noqa: S603 - the pgbench found on PATH, fixed arguments
                command, env=self.env, capture_output=True, text=True, timeout=300, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            self.absent = f"pgbench could not run: {exc}"
            return None
        if done.returncode != 0:
            self.absent = f"pgbench exited {done.returncode}: {done.stderr.strip()[-300:]}"
            return None
        return done.stdout


def _clients(clients: int) -> list[str]:
    """pgbench's arguments for ``clients`` connections, driven by at most one thread per core."""
    return ["-c", str(clients), "-j", str(max(1, min(clients, os.cpu_count() or 1)))]


def _libpq_env(url: str) -> dict[str, str]:
    """The PG* variables that point libpq (pgbench) at ``url``'s server and database."""
    params = psycopg.conninfo.conninfo_to_dict(url)
    names = {"host": "PGHOST", "port": "PGPORT", "user": "PGUSER", "password": "PGPASSWORD", "dbname": "PGDATABASE"}
    return {**os.environ, **{var: str(params[key]) for key, var in names.items() if params.get(key)}}


@contextmanager
def pgbench_floor(url: str) -> Iterator[Floor]:
    """A scratch database on ``url``'s server initialized by ``pgbench -i -s 1``; dropped afterwards."""
    if shutil.which("pgbench") is None:
        yield Floor({}, absent=f"pgbench is not installed on this machine: {INSTALL}")
        return
    name = f"elements_pgbench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        floor = Floor(_libpq_env(psycopg.conninfo.make_conninfo(url, dbname=name)))
        floor._pgbench("-i", "-s", "1", "-q")
        yield floor
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
