"""The scheduled sweeper (every minute): expires Nickel's holds past ``expires_at``, publishes outbox
rows a crash left unpublished after their commit, and prunes what is kept only for a while
(idempotency keys past 48 h, login failures past their window, refresh tokens past their expiry)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import psycopg

from fluorine import bus, idempotency
from fluorine.commands.oxygen_auth import prune_credentials
from fluorine.db import connection
from fluorine.publisher import publish
from fluorine.uow import UnitOfWork
from shared import snapstart
from shared.contracts.changes import ChangeRecord
from shared.contracts.nickel_holds import EXPIRY_BATCH, ExpireHolds, HoldsExpired
from shared.observability import count, invocation, logger

GRACE_SECONDS = 2  # leave fresh rows to the request that wrote them
BATCH = 500
EXPIRY_BATCHES = 20  # at most 10,000 holds a run (about a second of the 60 s budget per batch at worst)


def sweep(conn: psycopg.Connection, *, grace_seconds: float = GRACE_SECONDS, batch: int = BATCH) -> int:
    """Publish up to ``batch`` stale unpublished rows, oldest first; how many were published."""
    # No row lock is held while publishing: two sweepers racing put the same items twice, and the
    # change feed's conditional puts make the second put a no-op.
    with conn.transaction():
        records = unpublished(conn, grace_seconds, batch)
    if records:
        publish(conn, records)
        logger.info("swept unpublished outbox rows", extra={"count": len(records)})
    return len(records)


def unpublished(conn: psycopg.Connection, grace_seconds: float, batch: int) -> list[ChangeRecord]:
    """Up to ``batch`` unpublished rows older than ``grace_seconds``, oldest first."""
    rows = conn.execute(
        "SELECT seq, aggregate, version, event_type, payload, occurred_at, correlation_id FROM outbox"
        " WHERE published_at IS NULL AND occurred_at < now() - make_interval(secs => %s)"
        " ORDER BY seq LIMIT %s",
        (grace_seconds, batch),
    ).fetchall()
    return [
        ChangeRecord(
            seq=r[0], aggregate=r[1], version=r[2], event_type=r[3], payload=r[4], occurred_at=r[5], correlation_id=r[6]
        )
        for r in rows
    ]


def expire_holds(conn: psycopg.Connection, *, batch: int = EXPIRY_BATCH) -> int:
    """Expire the holds past ``expires_at`` (Fluorine's system command ``ExpireHolds``, a transaction a
    batch) and publish their events at once; how many expired. More than a run's share waits a minute."""
    expired = 0
    for _ in range(EXPIRY_BATCHES):
        outcome = bus.execute(ExpireHolds(limit=batch).model_dump(mode="json"), conn)
        if outcome.records:
            publish(conn, outcome.records)
        done = HoldsExpired.model_validate(outcome.result).expired
        expired += done
        if done < batch:
            break
    if expired:
        logger.info("expired holds", extra={"count": expired})
    return expired


def prune(conn: psycopg.Connection) -> dict[str, int]:
    """Remove what is kept only for a while; how many rows of each kind."""
    with UnitOfWork(conn) as uow:
        return {"idempotency_keys": idempotency.expire(uow), **prune_credentials(uow, datetime.now(UTC))}


def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    invocation(context)
    for attempt in (1, 2):
        conn = connection()  # a new connection once the last one broke
        try:
            expired = expire_holds(conn)
            published = sweep(conn)
            count("HoldsExpired", expired)
            count("OutboxSwept", published)  # above zero: publishing after commit failed or ran out of time
            return {
                "expired_holds": expired,
                "published": published,
                **{f"pruned_{k}": n for k, n in prune(conn).items()},
            }
        except psycopg.OperationalError:
            if attempt == 2 or not conn.broken:
                raise
            # Each step is idempotent (expiring only what is still pending and due, conditional puts,
            # idempotent marks, deletes by age).
            logger.warning("database connection lost; sweeping again on a new one")
    raise AssertionError("unreachable")


def rehearse(conn: psycopg.Connection) -> None:
    """A run's statements on ``conn``, in a transaction that is rolled back: their first run in an
    interpreter and on a new PostgreSQL backend costs several times a later one (psycopg's adapters
    and query conversions, the backend's catalog caches). Nothing is expired, published or pruned."""
    with conn.transaction(force_rollback=True):
        bus.execute(ExpireHolds(limit=1).model_dump(mode="json"), conn)
        unpublished(conn, GRACE_SECONDS, 1)
        prune(conn)


# Decorated last: an on-demand init in Lambda runs it here, so what it calls must be defined above.
@snapstart.prime()
def prime() -> None:
    """Every run expires holds through the bus (its registry) on PostgreSQL (its connection). The
    DynamoDB client stays lazy: only a run that finds rows to publish needs it, and most find none.

    A run is rehearsed on the connection (``rehearse``): the init pays what a first run pays."""
    from fluorine.commands import load_all

    load_all()
    rehearse(connection())  # closed before a snapshot, were there one: fluorine.db.close
