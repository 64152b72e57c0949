"""Oxygen's credential commands: login lookups and throttling, login sessions, refresh tokens.

Password and refresh-token hashes stay in PostgreSQL and in the answers to Oxygen; the only
events emitted here are session revocations (``SessionState``: ids and a flag, no token).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from fluorine.authority import Authority
from fluorine.bus import command_handler
from fluorine.commands.oxygen import ENTITY_COLUMNS, entity_state
from fluorine.uow import UnitOfWork
from shared.contracts.oxygen import entity_aggregate
from shared.contracts.oxygen_auth import (
    Credentials,
    FailureRecorded,
    LookUpCredentials,
    LookUpLogin,
    RecordLoginFailure,
    RevokeSession,
    RotateRefreshToken,
    Rotation,
    SessionsRevoked,
    SessionStarted,
    SessionState,
    StartSession,
    entity_login,
    login_key,
    session_aggregate,
)
from shared.errors import NotFound

CREDENTIAL_COLUMNS = f"{ENTITY_COLUMNS}, password_hash"


def _credentials(row: tuple[Any, ...] | None) -> Credentials:
    if row is None:
        return Credentials()
    return Credentials(entity=entity_state(row[:-1]), password_hash=row[-1])


def _retry_after(uow: UnitOfWork, key: str, at: datetime, window: int, max_failures: int) -> int | None:
    """Seconds until fewer than ``max_failures`` failures remain in the sliding window, if throttled."""
    recent = uow.execute(
        "SELECT failed_at FROM login_failures WHERE login_key = %s AND failed_at > %s ORDER BY failed_at DESC LIMIT %s",
        (key, at - timedelta(seconds=window), max_failures),
    ).fetchall()
    if len(recent) < max_failures:
        return None
    frees_at: datetime = recent[-1][0] + timedelta(seconds=window)
    return max(1, math.ceil((frees_at - at).total_seconds()))


@command_handler(LookUpLogin, authority=Authority.PUBLIC)
def look_up_login(cmd: LookUpLogin, uow: UnitOfWork) -> Credentials:
    retry_after = _retry_after(uow, login_key(cmd.login), cmd.at, cmd.window_seconds, cmd.max_failures)
    if retry_after is not None:
        return Credentials(retry_after=retry_after)
    login = cmd.login.strip()
    where = "lower(email) = lower(%s)" if "@" in login else "handle = lower(%s)"
    return _credentials(uow.execute(f"SELECT {CREDENTIAL_COLUMNS} FROM entities WHERE {where}", (login,)).fetchone())


@command_handler(LookUpCredentials, acts_as="entity_id")
def look_up_credentials(cmd: LookUpCredentials, uow: UnitOfWork) -> Credentials:
    key = login_key(entity_login(cmd.entity_id))
    retry_after = _retry_after(uow, key, cmd.at, cmd.window_seconds, cmd.max_failures)
    if retry_after is not None:
        return Credentials(retry_after=retry_after)
    row = uow.execute(f"SELECT {CREDENTIAL_COLUMNS} FROM entities WHERE id = %s", (cmd.entity_id,)).fetchone()
    return _credentials(row)


@command_handler(RecordLoginFailure, authority=Authority.PUBLIC)
def record_login_failure(cmd: RecordLoginFailure, uow: UnitOfWork) -> FailureRecorded:
    key, since = login_key(cmd.login), cmd.at - timedelta(seconds=cmd.window_seconds)
    uow.execute("DELETE FROM login_failures WHERE login_key = %s AND failed_at <= %s", (key, since))
    uow.execute("INSERT INTO login_failures (login_key, failed_at) VALUES (%s, %s)", (key, cmd.at))
    row = uow.execute("SELECT count(*) FROM login_failures WHERE login_key = %s", (key,)).fetchone()
    return FailureRecorded(failures_in_window=row[0] if row else 1)


def _active_entity(uow: UnitOfWork, entity_id: UUID) -> Any:
    row = uow.execute(f"SELECT {ENTITY_COLUMNS} FROM entities WHERE id = %s", (entity_id,)).fetchone()
    state = entity_state(row) if row else None
    return state if state is not None and state.status == "active" else None


@command_handler(StartSession, authority=Authority.PUBLIC)
def start_session(cmd: StartSession, uow: UnitOfWork) -> SessionStarted:
    state = _active_entity(uow, cmd.entity_id)
    if state is None:
        raise NotFound("The entity does not exist.")
    uow.execute(
        "INSERT INTO auth_sessions (id, entity_id, created_at) VALUES (%s, %s, %s)",
        (cmd.session_id, cmd.entity_id, cmd.at),
    )
    uow.execute(
        "INSERT INTO refresh_tokens (token_hash, session_id, issued_at, expires_at) VALUES (%s, %s, %s, %s)",
        (cmd.refresh_hash, cmd.session_id, cmd.at, cmd.expires_at),
    )
    uow.execute("DELETE FROM login_failures WHERE login_key = %s", (login_key(cmd.login),))
    # The read side learns of every live session: the authorizer refuses a session it does not know.
    session = SessionState(id=cmd.session_id, entity_id=cmd.entity_id, revoked=False, version=1)
    uow.emit(session_aggregate(cmd.session_id), session.version, "SessionStarted", session)
    uow.left_in_place(entity_aggregate(state.id), state.version)
    uow.issue_token_to(state.id)
    return SessionStarted(session_id=cmd.session_id, entity=state)


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
    uow.emit(session_aggregate(session_id), state.version, "SessionRevoked", state)
    return True


@command_handler(RotateRefreshToken, authority=Authority.PUBLIC)
def rotate_refresh_token(cmd: RotateRefreshToken, uow: UnitOfWork) -> Rotation:
    row = uow.execute(
        "SELECT t.session_id, s.entity_id, t.spent_at, t.expires_at, s.revoked_at"
        " FROM refresh_tokens t JOIN auth_sessions s ON s.id = t.session_id"
        " WHERE t.token_hash = %s FOR UPDATE OF t, s",
        (cmd.presented_hash,),
    ).fetchone()
    if row is None:
        return Rotation(outcome="invalid")
    session_id, entity_id, spent_at, expires_at, revoked_at = row
    if revoked_at is not None:
        return Rotation(outcome="invalid", session_id=session_id)
    if spent_at is not None:  # a second use: someone holds a copy; end the whole session
        revoke(uow, session_id, cmd.at)
        uow.issue_token_to(entity_id)
        return Rotation(outcome="reused", session_id=session_id)
    state = _active_entity(uow, entity_id)
    if expires_at <= cmd.at or state is None:
        return Rotation(outcome="invalid", session_id=session_id)
    uow.execute("UPDATE refresh_tokens SET spent_at = %s WHERE token_hash = %s", (cmd.at, cmd.presented_hash))
    uow.execute(
        "INSERT INTO refresh_tokens (token_hash, session_id, issued_at, expires_at) VALUES (%s, %s, %s, %s)",
        (cmd.new_hash, session_id, cmd.at, cmd.expires_at),
    )
    return Rotation(outcome="rotated", session_id=session_id, entity=state)


@command_handler(RevokeSession, acts_as="entity_id")
def revoke_session(cmd: RevokeSession, uow: UnitOfWork) -> SessionsRevoked:
    row = uow.execute(
        "SELECT s.id FROM refresh_tokens t JOIN auth_sessions s ON s.id = t.session_id"
        " WHERE t.token_hash = %s AND s.entity_id = %s FOR UPDATE OF s",
        (cmd.refresh_hash, cmd.entity_id),
    ).fetchone()
    if row is None or not revoke(uow, row[0], cmd.at):
        # Nothing to end (an unknown, foreign or already revoked token): the answer still carries
        # a write version, of the caller's entity as it stands.
        version = uow.execute("SELECT version FROM entities WHERE id = %s", (cmd.entity_id,)).fetchone()
        uow.left_in_place(entity_aggregate(cmd.entity_id), version[0] if version else 1)
        return SessionsRevoked()
    return SessionsRevoked(sessions=[row[0]])
