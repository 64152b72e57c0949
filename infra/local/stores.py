"""Where a running local stack keeps its stores, so ``make verify`` / ``make rebuild`` find them.

``make run`` records in its state dir (LOCAL_STATE_DIR, default .local/) its pid and the stores it
runs itself: the in-process DynamoDB's endpoint and the embedded PostgreSQL's URL, which exist only
while it runs. Stores the environment names (DYNAMODB_ENDPOINT, DATABASE_URL) are not recorded:
the maintenance command runs with the same environment as ``make run``, so it names them too (and
a URL with a password never lands on disk).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

RECORD = "stack.json"


@dataclass(frozen=True)
class Stores:
    dynamodb_endpoint: str
    database_url: str


def record(state_dir: Path, dynamodb_endpoint: str | None, database_url: str | None) -> Path:
    """Record this process's own stores (None: named by the environment) for the maintenance command."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / RECORD
    partial = path.with_suffix(".tmp")
    partial.write_text(
        json.dumps({"pid": os.getpid(), "dynamodb_endpoint": dynamodb_endpoint, "database_url": database_url})
    )
    partial.chmod(0o600)
    partial.replace(path)
    return path


def forget(state_dir: Path) -> None:
    """Remove this process's record (a stack killed with SIGKILL leaves its record; its pid tells)."""
    with contextlib.suppress(FileNotFoundError, ValueError, KeyError):
        path = state_dir / RECORD
        if json.loads(path.read_text())["pid"] == os.getpid():
            path.unlink()


def running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def locate(state_dir: Path, environ: Mapping[str, str]) -> Stores | str:
    """The stores to maintain: the environment's, else the running stack's record; or why there are none."""
    found: dict[str, str | None] = {"dynamodb_endpoint": None, "database_url": None}
    path = state_dir / RECORD
    if path.exists():
        recorded = json.loads(path.read_text())
        if running(int(recorded["pid"])):
            found = {key: recorded.get(key) for key in found}
    endpoint = environ.get("DYNAMODB_ENDPOINT") or found["dynamodb_endpoint"]
    database_url = environ.get("DATABASE_URL") or found["database_url"]
    if endpoint and database_url:
        return Stores(endpoint, database_url)
    return (
        f"No running local stack recorded in {path} (start it with `make run`, and run this with the same"
        " LOCAL_STATE_DIR, DATABASE_URL and DYNAMODB_ENDPOINT): the read cache of a stack started without"
        " DYNAMODB_ENDPOINT, and the database of one started without DATABASE_URL, live only while it runs."
    )
