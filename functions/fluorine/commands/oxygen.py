"""Oxygen's commands: entities and their credentials."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from psycopg import errors as pg_errors

from fluorine.authority import Authority
from fluorine.bus import command_handler
from fluorine.uow import UnitOfWork
from shared.contracts.oxygen import (
    ENTITY_DEACTIVATED,
    DeactivateEntity,
    EnsurePlatformAdmin,
    EntityState,
    RegisterEntity,
    SetPlatformRoles,
    UpdateEntity,
    entity_aggregate,
)
from shared.contracts.oxygen_auth import SESSION_REVOKED, SessionState, session_aggregate
from shared.errors import Conflict, NotFound

ENTITY_COLUMNS = "id, kind, handle, display_name, email, roles, status, created_at, version"
UNIQUE_FIELDS = {"entities_handle": "handle", "entities_email": "email"}


def taken(exc: pg_errors.UniqueViolation) -> Conflict:
    field = UNIQUE_FIELDS.get(getattr(exc.diag, "constraint_name", "") or "", "id")
    return Conflict(
        f"That {field} is already taken.",
        errors=[{"loc": ["body", field], "msg": f"{field} already taken", "type": "unique"}],
    )


@command_handler(RegisterEntity, authority=Authority.PUBLIC)
def register_entity(cmd: RegisterEntity, uow: UnitOfWork) -> EntityState:
    try:
        with uow.conn.transaction():  # a savepoint, so the violation can be answered cleanly
            state = uow.found(
                EntityState,
                f"INSERT INTO entities (id, kind, handle, display_name, email, password_hash)"
                f" VALUES (%s, %s, %s, %s, %s, %s) RETURNING {ENTITY_COLUMNS}",
                (cmd.id, cmd.kind, cmd.handle, cmd.display_name, cmd.email, cmd.password_hash),
            )
    except pg_errors.UniqueViolation as exc:
        raise taken(exc) from exc
    uow.emit(entity_aggregate(state.id), state.version, "EntityRegistered", state)
    uow.issue_token_to(state.id)  # the new entity reads its registration back once it has logged in
    return state


@command_handler(EnsurePlatformAdmin, authority=Authority.SYSTEM)
def ensure_platform_admin(cmd: EnsurePlatformAdmin, uow: UnitOfWork) -> EntityState:
    state = uow.one(
        EntityState,
        f"INSERT INTO entities (id, kind, handle, display_name, password_hash, roles)"
        f" VALUES (%s, 'real', %s, %s, %s, ARRAY['admin'])"
        f" ON CONFLICT (handle) DO NOTHING RETURNING {ENTITY_COLUMNS}",
        (cmd.id, cmd.handle, cmd.display_name, cmd.password_hash),
    ) or uow.one(
        EntityState,
        f"UPDATE entities SET roles = array_append(roles, 'admin'), version = version + 1, updated_at = now()"
        f" WHERE handle = %s AND NOT ('admin' = ANY(roles)) RETURNING {ENTITY_COLUMNS}",
        (cmd.handle,),
    )
    if state is None:  # already an admin: nothing to write, nothing to publish
        return uow.found(EntityState, f"SELECT {ENTITY_COLUMNS} FROM entities WHERE handle = %s", (cmd.handle,))
    uow.emit(entity_aggregate(state.id), state.version, "PlatformAdminEnsured", state)
    uow.issue_token_to(state.id)
    return state


def _changed(uow: UnitOfWork, state: EntityState | None, event_type: str) -> EntityState:
    if state is None:
        raise NotFound("The entity does not exist.")
    uow.emit(entity_aggregate(state.id), state.version, event_type, state)
    return state


def revoke(uow: UnitOfWork, session_id: UUID, at: datetime) -> bool:
    """Revoke one session and tell the read side (so the authorizer refuses its access tokens)."""
    row = uow.execute(
        "UPDATE auth_sessions SET revoked_at = %s, version = version + 1"
        " WHERE id = %s AND revoked_at IS NULL RETURNING entity_id, version",
        (at, session_id),
    ).fetchone()
    if row is None:
        return False
    state = SessionState(id=session_id, entity_id=row[0], revoked=True, version=row[1])
    uow.emit(session_aggregate(session_id), state.version, SESSION_REVOKED, state)
    return True


@command_handler(UpdateEntity, acts_as="entity_id")
def update_entity(cmd: UpdateEntity, uow: UnitOfWork) -> EntityState:
    try:
        with uow.conn.transaction():
            updated = uow.one(
                EntityState,
                f"UPDATE entities SET display_name = COALESCE(%s, display_name), email = COALESCE(%s, email),"
                f" password_hash = COALESCE(%s, password_hash), version = version + 1, updated_at = now()"
                f" WHERE id = %s AND status = 'active' RETURNING {ENTITY_COLUMNS}",
                (cmd.display_name, cmd.email, cmd.password_hash, cmd.entity_id),
            )
    except pg_errors.UniqueViolation as exc:
        raise taken(exc) from exc
    state = _changed(uow, updated, "EntityUpdated")
    if cmd.password_hash is not None:  # every other session ends, as after a logout
        others = uow.execute(
            "SELECT id FROM auth_sessions WHERE entity_id = %s AND revoked_at IS NULL AND id IS DISTINCT FROM %s"
            " ORDER BY id FOR UPDATE",
            (cmd.entity_id, cmd.keep_session),
        ).fetchall()
        for (session_id,) in others:
            revoke(uow, session_id, datetime.now(UTC))
    return state


@command_handler(DeactivateEntity, acts_as="entity_id")
def deactivate_entity(cmd: DeactivateEntity, uow: UnitOfWork) -> EntityState:
    deactivated = uow.one(
        EntityState,
        f"UPDATE entities SET status = 'deactivated', version = version + 1, updated_at = now()"
        f" WHERE id = %s AND status = 'active' RETURNING {ENTITY_COLUMNS}",
        (cmd.entity_id,),
    )
    state = _changed(uow, deactivated, ENTITY_DEACTIVATED)
    # The entity's status already refuses its access tokens; its refresh tokens die with their sessions.
    uow.execute(
        "UPDATE auth_sessions SET revoked_at = %s, version = version + 1 WHERE entity_id = %s AND revoked_at IS NULL",
        (cmd.at, cmd.entity_id),
    )
    return state


@command_handler(SetPlatformRoles, authority=Authority.ADMIN)
def set_platform_roles(cmd: SetPlatformRoles, uow: UnitOfWork) -> EntityState:
    updated = uow.one(
        EntityState,
        f"UPDATE entities SET roles = %s, version = version + 1, updated_at = now()"
        f" WHERE id = %s AND status = 'active' RETURNING {ENTITY_COLUMNS}",
        (sorted(set(cmd.roles)), cmd.entity_id),
    )
    return _changed(uow, updated, "PlatformRolesSet")
