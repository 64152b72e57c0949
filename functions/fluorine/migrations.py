"""The migration runner: applies ``schema/migrations/NNNN_name.sql`` in order, each exactly once.

Each file runs in its own transaction together with its row in ``schema_migrations``; an advisory
lock keeps two runners (two deploys, two local stacks) from racing.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import psycopg

MIGRATION_FILE = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
LOCK_ID = 0x0E1E_3E27


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


def migrate(conninfo: str, directory: Path | None = None) -> list[str]:
    """Apply every pending migration; the names of those applied."""
    directory = directory or migrations_dir()
    applied: list[str] = []
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_ID,))
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version text PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            for path in pending(conn, directory):
                with conn.transaction():
                    conn.execute(path.read_text())  # type: ignore[arg-type]
                    conn.execute(
                        "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", (path.name[:4], path.name)
                    )
                applied.append(path.name)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_ID,))
    return applied


def handler(event: dict, context: object) -> dict:
    """Lambda entry point (run on deploy by a custom resource, or by hand)."""
    from fluorine.db import _conninfo

    return {"applied": migrate(_conninfo())}
