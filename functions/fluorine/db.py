"""PostgreSQL connections: created lazily, reused across warm invocations, one per thread.

Locally ``DATABASE_URL`` names the server; deployed, ``DATABASE_SECRET_ARN`` names a Secrets
Manager secret (host, port, username, password, dbname) read through Powertools parameters.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import psycopg

from shared.settings import get_settings

_local = threading.local()


def _conninfo() -> str:
    settings = get_settings()
    if settings.database_url:
        return settings.database_url
    if settings.database_secret_arn:
        from aws_lambda_powertools.utilities import parameters

        secret: Any = json.loads(str(parameters.get_secret(settings.database_secret_arn, max_age=300)))
        return psycopg.conninfo.make_conninfo(
            host=settings.database_host or secret["host"],
            port=secret.get("port", 5432),
            user=secret["username"],
            password=secret["password"],
            dbname=secret.get("dbname", "elements"),
            sslmode="require",
        )
    raise RuntimeError("no database configured: set DATABASE_URL or DATABASE_SECRET_ARN")


def connection() -> psycopg.Connection:
    """This thread's connection, reopened if the last one broke."""
    conn: psycopg.Connection | None = getattr(_local, "conn", None)
    if conn is None or conn.closed or conn.broken:
        conn = psycopg.connect(_conninfo(), autocommit=False, connect_timeout=10)
        _local.conn = conn
    return conn


def close() -> None:
    conn = getattr(_local, "conn", None)
    if conn is not None:
        conn.close()
        _local.conn = None
