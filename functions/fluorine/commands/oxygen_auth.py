"""Oxygen's credential commands: login lookups and throttling, login sessions, refresh tokens.

Password and refresh-token hashes stay in PostgreSQL and in the answers to Oxygen; the only
events emitted here are session starts and revocations (``SessionState``: ids and a flag, no token).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from uuid import UUID

from pydantic import Field

from fluorine.authority import Authority
from fluorine.bus import command_handler
from fluorine.commands.oxygen import ENTITY_COLUMNS, revoke
from fluorine.uow import UnitOfWork
from shared.contracts.oxygen import EntityState, entity_aggregate
from shared.contracts.oxygen_auth import (
    LOGIN_WINDOW_SECONDS,
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
    login_subject,
    session_aggregate,
    throttle_key,
)
from shared.errors import NotFound

CREDENTIAL_COLUMNS = f"{ENTITY_COLUMNS}, password_hash"


class StoredCredentials(EntityState):
    """An entity's row with its password hash (what Fluorine answers Oxygen, never the feed)."""

    password_hash: str = Field(repr=False)


def _credentials(found: StoredCredentials | None, key: str) -> Credentials:
    if found is None:
        return Credentials(throttle_key=key)
    entity = EntityState.model_validate(found.model_dump(exclude={"password_hash"}))
    return Credentials(entity=entity, password_hash=found.password_hash, throttle_key=key)


# The Nth most recent failure under a key within the window, from one address or from all: while
# there is one, the key is throttled there until it leaves the window.
NTH_RECENT_FAILURE = """
    SELECT failed_at FROM login_failures
    WHERE login_key = %(key)s AND failed_at > %(since)s AND (%(source)s::text IS NULL OR source = %(source)s::text)
    ORDER BY failed_at DESC OFFSET %(nth)s - 1 LIMIT 1
"""


def _retry_after(
    uow: UnitOfWork, key: str, at: datetime, window: int, limits: list[tuple[str | None, int]]
) -> int | None:
    """Seconds until every ``(source, limit)`` holds again (``None``: every address), if one is reached."""
    since, waits = at - timedelta(seconds=window), []
    for source, limit in limits:
        row = uow.execute(NTH_RECENT_FAILURE, {"key": key, "since": since, "source": source, "nth": limit}).fetchone()
        if row is not None:
            waits.append(math.ceil((row[0] + timedelta(seconds=window) - at).total_seconds()))
    return max(1, *waits) if waits else None


def _entity_by_login(uow: UnitOfWork, login: str) -> StoredCredentials | None:
    login = login.strip()
    where = "lower(email) = lower(%s)" if "@" in login else "handle = lower(%s)"
    return uow.one(StoredCredentials, f"SELECT {CREDENTIAL_COLUMNS} FROM entities WHERE {where}", (login,))


@command_handler(LookUpLogin, authority=Authority.PUBLIC)
def look_up_login(cmd: LookUpLogin, uow: UnitOfWork) -> Credentials:
    """Failures count per entity (whichever login named it; for an unknown login, per login) and per
    address: ``max_per_source`` from one address throttle that address, ``max_total`` every address."""
    found = _entity_by_login(uow, cmd.login)
    key = throttle_key(login_subject(found.id) if found else cmd.login)
    limits = [(cmd.source, cmd.max_per_source), (None, cmd.max_total)]
    retry_after = _retry_after(uow, key, cmd.at, cmd.window_seconds, limits)
    if retry_after is not None:
        return Credentials(retry_after=retry_after, throttle_key=key)
    return _credentials(found, key)


@command_handler(LookUpCredentials, acts_as="entity_id")
def look_up_credentials(cmd: LookUpCredentials, uow: UnitOfWork) -> Credentials:
    key = throttle_key(entity_login(cmd.entity_id))
    retry_after = _retry_after(uow, key, cmd.at, cmd.window_seconds, [(None, cmd.max_failures)])
    if retry_after is not None:
        return Credentials(retry_after=retry_after, throttle_key=key)
    found = uow.one(StoredCredentials, f"SELECT {CREDENTIAL_COLUMNS} FROM entities WHERE id = %s", (cmd.entity_id,))
    return _credentials(found, key)


@command_handler(RecordLoginFailure, authority=Authority.PUBLIC)
def record_login_failure(cmd: RecordLoginFailure, uow: UnitOfWork) -> FailureRecorded:
    uow.execute(
        "INSERT INTO login_failures (login_key, source, failed_at) VALUES (%s, %s, %s)",
        (cmd.throttle_key, cmd.source, cmd.at),
    )
    row = uow.execute(
        "SELECT count(*) FROM login_failures WHERE login_key = %s AND source = %s AND failed_at > %s",
        (cmd.throttle_key, cmd.source, cmd.at - timedelta(seconds=LOGIN_WINDOW_SECONDS)),
    ).fetchone()
    return FailureRecorded(failures_in_window=row[0] if row else 1)


def prune_credentials(uow: UnitOfWork, now: datetime) -> dict[str, int]:
    """What the sweeper removes: login failures past their window, refresh tokens past their expiry.

    A spent refresh token is kept until it expires: presented again before then, it is recognised as
    reuse and ends its session; after, it is invalid anyway."""
    failures = uow.execute(
        "DELETE FROM login_failures WHERE failed_at < %s", (now - timedelta(seconds=LOGIN_WINDOW_SECONDS),)
    ).rowcount
    tokens = uow.execute("DELETE FROM refresh_tokens WHERE expires_at < %s", (now,)).rowcount
    return {"login_failures": failures, "refresh_tokens": tokens}


def _active_entity(uow: UnitOfWork, entity_id: UUID) -> EntityState | None:
    state = uow.one(EntityState, f"SELECT {ENTITY_COLUMNS} FROM entities WHERE id = %s", (entity_id,))
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
    if cmd.throttle_key is not None:  # this address proved it knows the password
        uow.execute("DELETE FROM login_failures WHERE login_key = %s AND source = %s", (cmd.throttle_key, cmd.source))
    if cmd.rehash is not None:  # today's parameters, if the stored hash is still the one verified
        old, new = cmd.rehash
        uow.execute("UPDATE entities SET password_hash = %s WHERE id = %s AND password_hash = %s", (new, state.id, old))
    # The read side learns of every live session: the authorizer refuses a session it does not know.
    session = SessionState(id=cmd.session_id, entity_id=cmd.entity_id, revoked=False, version=1)
    uow.emit(session_aggregate(cmd.session_id), session.version, "SessionStarted", session)
    uow.left_in_place(entity_aggregate(state.id), state.version)
    uow.issue_token_to(state.id)
    return SessionStarted(session_id=cmd.session_id, entity=state)


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
    if spent_at is not None and (cmd.at - spent_at).total_seconds() > cmd.grace_seconds:
        revoke(uow, session_id, cmd.at)  # a second use: someone holds a copy; end the whole session
        uow.issue_token_to(entity_id)
        return Rotation(outcome="reused", session_id=session_id)
    state = _active_entity(uow, entity_id)
    if expires_at <= cmd.at or state is None:
        return Rotation(outcome="invalid", session_id=session_id)
    if spent_at is None:  # (within the grace a spent token stays spent at its first use)
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
