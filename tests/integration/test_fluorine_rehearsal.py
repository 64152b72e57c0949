"""The rehearsals Fluorine's functions prime with run their commands for real and keep nothing.

Fluorine's prime rehearses the common commands and the sweeper's prime a sweep, each in a
transaction rolled back (fluorine/rehearsal.py, fluorine/sweeper.py): the first request then finds
psycopg's adapters and the backend's caches warm. A rehearsal that kept a row, expired a hold or
published an event would be a write nobody asked for.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psycopg

from fluorine import db, sweeper
from fluorine.rehearsal import rehearse
from shared.contracts.changes import Idempotency
from shared.contracts.nickel import CreateAsset, IssueAsset
from shared.contracts.nickel_holds import PlaceHold
from tests.integration.nickel_support import let_expire
from tests.support.events import FakeContext
from tests.support.factories import act, register_entity


def rows(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table but the migration ledger, in a stable order."""
    with psycopg.connect(url) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'"
                " ORDER BY tablename"
            )
        ]
        return {t: sorted(map(tuple, conn.execute(f'SELECT * FROM "{t}"').fetchall()), key=repr) for t in tables}


def outbox_sequence(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT last_value FROM pg_sequences WHERE sequencename = 'outbox_seq_seq'").fetchone()
        return int(row[0] or 0) if row else 0


def test_fluorines_rehearsal_runs_the_common_commands_and_keeps_nothing(postgres: str) -> None:
    # Given a database with an entity in it
    register_entity()
    before, seq_before = rows(postgres), outbox_sequence(postgres)

    # When Fluorine's prime rehearses its common commands on its connection
    conn = db.connection()
    rehearse(conn)

    # Then they ran (their events took outbox numbers) but no row of any table changed
    assert outbox_sequence(postgres) >= seq_before + 7  # admin, entity, session, message, asset, issue, transfer
    assert rows(postgres) == before
    # And the connection is left idle, ready for the first request
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def test_the_sweepers_rehearsal_expires_publishes_and_prunes_nothing(postgres: str, aws: None) -> None:
    # Given a hold past its expiry, a stale unpublished event and an idempotency key past its retention
    alice, bob = register_entity()[0].id, register_entity()[0].id
    act(CreateAsset(code="USD", name="Dollar", scale=2))
    key = Idempotency(caller_id=str(alice), key="issue-1", fingerprint="issue")
    act(IssueAsset(id=uuid.uuid4(), asset="USD", to=alice, amount=100, idempotency=key))
    hold = act(PlaceHold(id=uuid.uuid4(), from_entity=alice, to=bob, asset="USD", amount=10)).result
    let_expire(postgres, hold["id"])
    old = datetime.now(UTC) - timedelta(days=30)
    with psycopg.connect(postgres) as conn:
        conn.execute("UPDATE outbox SET occurred_at = %s", (old,))  # nothing was published: all stale
        conn.execute("UPDATE idempotency_keys SET created_at = %s", (old,))
    before = rows(postgres)
    assert before["idempotency_keys"], "the setup made no key to prune"
    assert before["outbox"], "the setup made no event to publish"

    # When the sweeper's prime rehearses a run
    sweeper.rehearse(db.connection())

    # Then the hold is still pending, every event still unpublished, every key still there
    assert rows(postgres) == before
    # And a real run afterwards does all three
    done = sweeper.handler({}, FakeContext())
    assert done["expired_holds"] == 1
    assert done["published"] == len(before["outbox"])
    assert done["pruned_idempotency_keys"] == len(before["idempotency_keys"])
