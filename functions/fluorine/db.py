"""PostgreSQL connections: created lazily, reused across warm invocations, one per thread.

Locally ``DATABASE_URL`` names the server; deployed, ``DATABASE_SECRET_ARN`` names a Secrets
Manager secret (host, port, username, password, dbname) read through Powertools parameters.

A reused connection may be dead: RDS Proxy drops clients idle for its IdleClientTimeout, and a
failover or restart drops everyone. The command bus retries a command whose connection is found
dead before COMMIT was sent (see ``fluorine.bus``); a connection lost during COMMIT is
``CommitOutcomeUnknown`` and is never retried.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import psycopg

from shared import snapstart
from shared.settings import get_settings

_local = threading.local()
# RDS Proxy's certificates chain to Amazon Trust Services' roots (not the RDS CA bundle, which is Aurora's own).
TRUSTED_ROOTS = Path(__file__).with_name("amazon-trust-roots.crt")
CONNECT_TIMEOUT = 3  # seconds: RDS Proxy accepts in milliseconds; a hung connect must not eat Fluorine's timeout


class CommitOutcomeUnknown(Exception):
    """The connection died while COMMIT was in flight: the transaction may or may not have committed.

    Nothing can tell which from this side, so the command is not retried; the caller gets an error
    (500), and a client that sent an Idempotency-Key repeats it to get the first answer or a first run.
    """


def _conninfo(force_fetch: bool = False) -> str:
    settings = get_settings()
    if settings.database_url:
        return settings.database_url
    if settings.database_secret_arn:
        from aws_lambda_powertools.utilities import parameters

        arn = settings.database_secret_arn
        secret: Any = json.loads(str(parameters.get_secret(arn, max_age=300, force_fetch=force_fetch)))
        return psycopg.conninfo.make_conninfo(
            host=settings.database_host or secret["host"],
            port=secret.get("port", 5432),
            user=secret["username"],
            password=secret["password"],
            dbname=secret.get("dbname", "elements"),
            sslmode="verify-full",  # "require" encrypts but would talk to anyone presenting any certificate
            sslrootcert=str(TRUSTED_ROOTS),
        )
    raise RuntimeError("no database configured: set DATABASE_URL or DATABASE_SECRET_ARN")


def connection() -> psycopg.Connection:
    """This thread's connection, reopened if the last one broke."""
    conn: psycopg.Connection | None = getattr(_local, "conn", None)
    if conn is None or conn.closed or conn.broken:
        if conn is not None:
            conn.close()
        conn = _connect()
        _local.conn = conn
    return conn


def _connect() -> psycopg.Connection:
    # prepare_threshold=None: no server-side prepared statements. psycopg prepares a query it has
    # run 5 times, and RDS Proxy then pins the client to its own database connection for as long
    # as it stays connected: every warm container would hold a PostgreSQL backend.
    options: dict[str, Any] = {"autocommit": False, "connect_timeout": CONNECT_TIMEOUT, "prepare_threshold": None}
    try:
        return psycopg.connect(_conninfo(), **options)
    except psycopg.OperationalError:
        if not get_settings().database_secret_arn:
            raise
        # RDS rotates the password every 7 days, and the secret read here may be up to 5 minutes
        # old: read it afresh and log in once more before giving up.
        return psycopg.connect(_conninfo(force_fetch=True), **options)


@snapstart.before_snapshot
@snapstart.after_restore
def close() -> None:
    """Close this thread's connection. Before a snapshot and after a restore too: a connection in a
    snapshot would be shared by every restored environment (and is dead after a restore anyway)."""
    conn = getattr(_local, "conn", None)
    if conn is not None:
        conn.close()
        _local.conn = None
