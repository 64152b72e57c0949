"""A real PostgreSQL for tests: TEST_DATABASE_URL when set, else an embedded one (pgserver)."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg


@contextmanager
def fresh_database() -> Iterator[str]:
    """A fresh, migrated database for one test session; dropped (or its server removed) afterwards."""
    from fluorine.migrations import migrate

    base = os.environ.get("TEST_DATABASE_URL")
    server = None
    if not base:
        import pgserver

        server = pgserver.get_server(tempfile.mkdtemp(prefix="elements-test-pg-"), cleanup_mode="delete")
        base = server.get_uri()
    name = f"elements_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = psycopg.conninfo.make_conninfo(base, dbname=name)
    try:
        migrate(url)
        yield url
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if server is not None:
            server.cleanup()


def truncate_all(url: str) -> None:
    """Empty every table but the migration ledger (fast isolation between tests)."""
    with psycopg.connect(url, autocommit=True) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'"
            )
        ]
        if tables:
            conn.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
