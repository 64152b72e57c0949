"""Factories: entities registered through the real write path (and cleaned by the fixtures)."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import psycopg
from pydantic import BaseModel

from fluorine import bus, db
from fluorine.authority import Authority
from shared.contracts.changes import ChangeRecord
from shared.contracts.oxygen import EnsurePlatformAdmin, EntityState, PlatformRole, RegisterEntity, SetPlatformRoles
from shared.contracts.oxygen_auth import StartSession
from shared.internal import Actor

_counter = itertools.count(1)
# A real Argon2id hash of "correct horse battery" (hashing in every factory call would slow tests).
PASSWORD = "correct horse battery"
PASSWORD_HASH = "$argon2id$v=19$m=19456,t=2,p=1$60++MCelUp/V064UtBN+mg$aq97FqNd1kxGUWFStub1ZWNREeeskdK1Pd/kqwWRPtk"


def register_command(**overrides: object) -> RegisterEntity:
    n = next(_counter)
    fields: dict[str, object] = {
        "id": uuid.uuid4(),
        "kind": "real",
        "handle": f"user_{n}_{uuid.uuid4().hex[:6]}",
        "display_name": f"User {n}",
        "email": None,
        "password_hash": PASSWORD_HASH,
    }
    fields.update(overrides)
    return RegisterEntity.model_validate(fields)


def register_entity(**overrides: object) -> tuple[EntityState, bus.Outcome]:
    """Register through Fluorine's bus (committed, not yet published); the entity and the outcome."""
    outcome = bus.execute(register_command(**overrides).model_dump(mode="json"))
    return EntityState.model_validate(outcome.result), outcome


def start_session(entity_id: uuid.UUID) -> tuple[Actor, bus.Outcome]:
    """A live login session for the entity (what a login creates; not yet published)."""
    now = datetime.now(UTC)
    command = StartSession(
        session_id=uuid.uuid4(),
        entity_id=entity_id,
        refresh_hash=hashlib.sha256(uuid.uuid4().bytes).hexdigest(),
        at=now,
        expires_at=now + timedelta(days=1),
    )
    outcome = bus.execute(command.model_dump(mode="json"))
    return Actor(entity_id=entity_id, session_id=command.session_id), outcome


def grant_roles(entity_id: uuid.UUID, roles: Iterable[str]) -> list[bus.Outcome]:
    """Grant platform roles the way an admin does: ``SetPlatformRoles`` by an admin the bootstrap
    made (``EnsurePlatformAdmin``), in a session of its own. The outcomes, to publish."""
    wanted: list[PlatformRole] = sorted(set(roles))  # type: ignore[arg-type] # checked by the command model
    if not wanted:
        return []
    root = EnsurePlatformAdmin(
        id=uuid.uuid4(), handle=f"root_{uuid.uuid4().hex[:8]}", display_name="Root", password_hash=PASSWORD_HASH
    )
    made = bus.execute(root.model_dump(mode="json"))
    root_actor, session = start_session(EntityState.model_validate(made.result).id)
    command = SetPlatformRoles(entity_id=entity_id, roles=wanted)
    return [made, session, bus.execute(command.model_dump(mode="json"), actor=root_actor)]


def admin_actor(entity_id: uuid.UUID | None = None) -> Actor:
    """A platform admin in a live session: ``entity_id`` made one (by the bootstrap command), or a new one."""
    return _admin(entity_id)[0]


def _admin(entity_id: uuid.UUID | None) -> tuple[Actor, list[ChangeRecord]]:
    if entity_id is None:
        handle = f"root_{uuid.uuid4().hex[:8]}"
    else:
        row = db.connection().execute("SELECT handle FROM entities WHERE id = %s", (entity_id,)).fetchone()
        db.connection().rollback()
        assert row is not None, f"no entity {entity_id}"
        handle = row[0]
    command = EnsurePlatformAdmin(id=uuid.uuid4(), handle=handle, display_name="Root", password_hash=PASSWORD_HASH)
    made = bus.execute(command.model_dump(mode="json"))
    actor, session = start_session(EntityState.model_validate(made.result).id)
    return actor, [*made.records, *session.records]


def act(command: BaseModel, conn: psycopg.Connection | None = None) -> bus.Outcome:
    """Run ``command`` through the bus with the authority it needs: as the entity it names as its
    actor, in a fresh login session (made a platform admin first if the command needs one), or as
    a new platform admin for an admin command that names no actor. The outcome's records include
    those of the session (and admin) made for it, so publishing them keeps the read side whole."""
    from fluorine.commands import load_all

    load_all()
    registered = bus.HANDLERS[command.command]  # type: ignore[attr-defined]
    actor: Actor | None = None
    records: list[ChangeRecord] = []
    names = getattr(command, registered.acts_as) if registered.acts_as else None
    if registered.authority is Authority.ADMIN:
        actor, records = _admin(names)
    elif registered.authority is Authority.CALLER:
        assert names is not None, f"{command.command} names no actor"  # type: ignore[attr-defined]
        actor, session = start_session(names)
        records = session.records
    outcome = bus.execute(command.model_dump(mode="json"), conn, actor=actor)
    return dataclasses.replace(outcome, records=[*records, *outcome.records])
