"""A rehearsal of Fluorine's common commands, for its prime: run for real, then rolled back.

A command's first run in an interpreter pays for more than its statements: psycopg builds its
dumpers, loaders and row makers for each type and converts each query string once, pydantic builds
the result models' serializers, the write version key is first used. Priming imports the modules
but runs none of this, so without a rehearsal the first command after a restore (or an on-demand
init) pays it all. The rehearsal runs, on the function's connection, the commands most requests
are (register, a login session, a message, an issuance and a transfer under an Idempotency-Key)
inside one transaction that is rolled back: nothing is kept and nothing is published (the bus
publishes nothing itself; the caller publishes an outcome's records, and these are dropped).

On an on-demand init the same connection then serves the first request, so PostgreSQL's backend
has its catalog caches warm too. Before a snapshot the connection is closed (``fluorine.db.close``)
and a restored environment opens a new one: what stays in the snapshot is the interpreter's side.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psycopg

from fluorine import bus
from fluorine.publisher import mark_published
from shared.contracts.changes import Idempotency
from shared.contracts.nickel import CreateAsset, IssueAsset, PostTransfer
from shared.contracts.oxygen import EnsurePlatformAdmin, RegisterEntity
from shared.contracts.oxygen_auth import StartSession
from shared.contracts.rhenium import SendMessage
from shared.internal import Actor

# Never a usable credential: not an Argon2 hash of anything, and rolled back with its entity.
NO_PASSWORD = "rehearsal: no password"  # noqa: S105 - not a secret: verifies nothing


def rehearse(conn: psycopg.Connection) -> None:
    """Run the common commands on ``conn`` in a transaction that is always rolled back."""
    tag = uuid.uuid4().hex[:12]
    now = datetime.now(UTC)
    with conn.transaction(force_rollback=True):
        admin = EnsurePlatformAdmin(
            id=uuid.uuid4(), handle=f"rehearsal_{tag}", display_name="Rehearsal", password_hash=NO_PASSWORD
        )
        admin_id = uuid.UUID(bus.execute(admin.model_dump(mode="json"), conn).result["id"])
        other = RegisterEntity(
            id=uuid.uuid4(),
            kind="real",
            handle=f"rehearsal_{tag}_b",
            display_name="Rehearsal",
            password_hash=NO_PASSWORD,
        )
        bus.execute(other.model_dump(mode="json"), conn)
        session = StartSession(
            session_id=uuid.uuid4(),
            entity_id=admin_id,
            refresh_hash="0" * 64,
            at=now,
            expires_at=now + timedelta(hours=1),
        )
        bus.execute(session.model_dump(mode="json"), conn)
        actor = Actor(entity_id=admin_id, session_id=session.session_id)

        def keyed(name: str) -> Idempotency:
            return Idempotency(caller_id=str(admin_id), key=f"{tag}-{name}", fingerprint=name)

        code = f"REHEARSAL-{tag}".upper()
        commands = [
            SendMessage(id=uuid.uuid4(), sender_id=admin_id, to_entity=other.id, body="rehearsal"),
            CreateAsset(code=code, name="Rehearsal", scale=0),
            IssueAsset(id=uuid.uuid4(), asset=code, to=admin_id, amount=2, idempotency=keyed("issue")),
            PostTransfer(
                id=uuid.uuid4(), from_entity=admin_id, to=other.id, asset=code, amount=1, idempotency=keyed("transfer")
            ),
        ]
        for command in commands:
            bus.execute(command.model_dump(mode="json"), conn, actor)
        mark_published(conn, [])
