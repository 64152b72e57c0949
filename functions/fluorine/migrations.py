"""The migration runner: applies ``schema/migrations/NNNN_name.sql`` in order, each exactly once.

Each file runs in its own transaction together with its row in ``schema_migrations``; an advisory
lock keeps two runners (two deploys, two local stacks) from racing.

On deploy a CloudFormation custom resource runs it, and CloudFormation waits for an answer: the
runner connects with a timeout, bounds every statement (the lock wait included) by the time its
function has left, and always answers, SUCCESS or FAILED, rather than raising.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from pathlib import Path
from typing import Any

import psycopg

from shared import snapstart

MIGRATION_FILE = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
LOCK_ID = 0x0E1E_3E27
CONNECT_TIMEOUT = 5  # seconds: RDS Proxy answers in far less; an unreachable database fails the deploy quickly
ANSWER_RESERVE_SECONDS = 15  # kept back from the function's time to answer CloudFormation


def migrations_dir() -> Path:
    configured = os.environ.get("MIGRATIONS_DIR")
    if configured:
        return Path(configured)
    bundled = Path(__file__).parent / "migrations_sql"  # a link to schema/migrations, copied by sam build
    if bundled.is_dir():
        return bundled
    here = Path(__file__).resolve()
    for base in (here.parent, *here.parents):
        candidate = base / "schema" / "migrations"
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("schema/migrations not found; set MIGRATIONS_DIR")


def pending(conn: psycopg.Connection, directory: Path) -> list[Path]:
    applied = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
    files = sorted(p for p in directory.iterdir() if MIGRATION_FILE.match(p.name))
    return [p for p in files if p.name[:4] not in applied]


def migrate(conninfo: str, directory: Path | None = None, deadline: float | None = None) -> list[str]:
    """Apply every pending migration; the names of those applied.

    With a ``deadline`` (``time.monotonic()`` seconds) no statement, waiting for the lock included,
    runs past it: PostgreSQL cancels it and the error says why.
    """
    directory = directory or migrations_dir()
    applied: list[str] = []
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT) as conn:
        _bound(conn, deadline)
        conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_ID,))
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version text PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            for path in pending(conn, directory):
                _bound(conn, deadline)
                with conn.transaction():
                    conn.execute(path.read_text())  # type: ignore[arg-type]
                    conn.execute(
                        "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", (path.name[:4], path.name)
                    )
                applied.append(path.name)
        finally:
            with contextlib.suppress(psycopg.Error):  # closing the session releases the lock anyway
                conn.execute("SELECT set_config('statement_timeout', '0', false), pg_advisory_unlock(%s)", (LOCK_ID,))
    return applied


def _bound(conn: psycopg.Connection, deadline: float | None) -> None:
    """Cap the next statements at the time left before ``deadline``."""
    if deadline is not None:
        left_ms = max(1, int((deadline - time.monotonic()) * 1000))
        conn.execute("SELECT set_config('statement_timeout', %s, false)", (str(left_ms),))


def respond_to_cloudformation(event: dict[str, Any], status: str, reason: str, data: dict[str, Any]) -> None:
    """Answer a CloudFormation custom resource (a PUT of the result to its pre-signed S3 URL)."""
    import urllib.request

    body = json.dumps(
        {
            "Status": status,
            "Reason": reason[:3000],
            "PhysicalResourceId": event.get("PhysicalResourceId") or "migrations",
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "Data": data,
        }
    ).encode()
    url = event["ResponseURL"]
    if not url.startswith("https://"):
        raise ValueError("CloudFormation response URLs are https")
    headers = {"Content-Type": "", "Content-Length": str(len(body))}
    request = urllib.request.Request(url, data=body, method="PUT", headers=headers)  # noqa: S310 - https only
    with urllib.request.urlopen(request, timeout=30):  # noqa: S310 - https only
        pass


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point: run by the stack's custom resource on every deploy, or invoked by hand.

    As a custom resource it answers CloudFormation itself; a failed migration fails the deploy
    (and CloudFormation rolls the functions back to the code that matches the schema). It never
    raises: CloudFormation invokes it asynchronously, and a raise would make Lambda run it again
    twice while the stack is already rolling back.
    """
    from fluorine.db import _conninfo

    if "RequestType" not in event:
        return {"applied": migrate(_conninfo())}
    if event["RequestType"] == "Delete":  # never drop data with the stack
        _answer(event, "SUCCESS", "nothing to do on delete", {})
        return {"applied": []}
    try:
        applied = migrate(_conninfo(), deadline=_deadline(context))
    except Exception as exc:  # reported to CloudFormation, which fails the deploy
        from shared.observability import logger

        logger.exception("migration failed")
        _answer(event, "FAILED", f"migration failed: {type(exc).__name__}: {exc}", {})
        return {"applied": [], "failed": type(exc).__name__}
    _answer(event, "SUCCESS", "migrated", {"Applied": ",".join(applied) or "none"})
    return {"applied": applied}


def _deadline(context: Any) -> float | None:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return None if remaining is None else time.monotonic() + remaining() / 1000 - ANSWER_RESERVE_SECONDS


def _answer(event: dict[str, Any], status: str, reason: str, data: dict[str, Any]) -> None:
    try:
        respond_to_cloudformation(event, status, reason, data)
    except Exception:  # CloudFormation then fails the resource at its ServiceTimeout
        from shared.observability import logger

        logger.exception("could not answer CloudFormation", extra={"status": status})


@snapstart.prime()
def prime() -> None:
    """What every run loads: the settings and the connection's configuration (kept out of the
    module's imports so that ``python -m fluorine.migrations`` stays light; at init in Lambda)."""
    import fluorine.db  # noqa: F401
