"""Login, refresh and logout: access tokens (JWT) and opaque refresh tokens grouped in sessions.

Refresh tokens are random strings the server keeps only as SHA-256 hashes. Failed logins are
counted per login in PostgreSQL (through Fluorine), so the limit holds across Lambda instances.
The clock is a module attribute so tests can move time instead of sleeping through a window.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from oxygen.models import LoginBody, TokenPair
from oxygen.passwords import hash_password, needs_rehash, verify_password
from shared import internal
from shared.auth.tokens import issue_access_token
from shared.contracts.oxygen import EntityState
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
    StartSession,
)
from shared.errors import InternalError, InvalidRequest, NotFound, NotReady, RateLimited, Unauthorized
from shared.observability import count, logger
from shared.readcache import wait_for_token
from shared.routes import Call
from shared.settings import get_settings

MAX_LOGIN_FAILURES = 5  # per entity and source address, in the window
MAX_ACCOUNT_FAILURES = 100  # per entity from every address together: stops distributed guessing
READ_SIDE_WAIT_SECONDS = 2.0
WRONG_CREDENTIALS = "The login or the password is wrong."


def utc_now() -> datetime:
    return datetime.now(UTC)


clock: Callable[[], datetime] = utc_now


def new_refresh_token() -> tuple[str, str]:
    """A fresh refresh token and the hash that is all the server keeps of it."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _pair(entity: EntityState, session_id: uuid.UUID, refresh_token: str, now: datetime) -> TokenPair:
    access, ttl = issue_access_token(
        entity.id, entity.kind, entity.roles, session_id=str(session_id), now=int(now.timestamp())
    )
    return TokenPair(access_token=access, expires_in=ttl, refresh_token=refresh_token)


def _refresh_expiry(now: datetime) -> datetime:
    return now + timedelta(seconds=get_settings().refresh_token_ttl)


def login(body: LoginBody, source: str, context: internal.CallContext) -> TokenPair:
    """A token pair for the right password; the same 401 for an unknown login or a wrong password.

    Failures count per entity and per source address: ``MAX_LOGIN_FAILURES`` from one address in the
    window throttle that address (429), ``MAX_ACCOUNT_FAILURES`` from all addresses every address.
    """
    now = clock()
    look_up = LookUpLogin(
        login=body.login,
        source=source,
        at=now,
        window_seconds=LOGIN_WINDOW_SECONDS,
        max_per_source=MAX_LOGIN_FAILURES,
        max_total=MAX_ACCOUNT_FAILURES,
    )
    found = internal.call("fluorine", look_up, Credentials, context).result
    if found.retry_after is not None:
        logger.warning("login throttled", extra={"retry_after": found.retry_after})
        count("LoginThrottled")
        raise RateLimited("Too many failed logins; try again later.", retry_after=found.retry_after)
    key = _throttle_key(found)
    valid = verify_password(body.password, found.password_hash)  # the dummy hash when unknown: same cost
    if not valid or found.entity is None or found.entity.status != "active":
        failure = RecordLoginFailure(throttle_key=key, source=source, at=now)
        recorded = internal.call("fluorine", failure, FailureRecorded, context).result
        logger.info("login refused", extra={"failures_in_window": recorded.failures_in_window})
        count("LoginFailures")
        raise Unauthorized(WRONG_CREDENTIALS)
    refresh, refresh_hash = new_refresh_token()
    stored = found.password_hash or ""
    command = StartSession(
        session_id=uuid.uuid4(),
        entity_id=found.entity.id,
        throttle_key=key,
        source=source,
        refresh_hash=refresh_hash,
        at=now,
        expires_at=_refresh_expiry(now),
        rehash=(stored, hash_password(body.password)) if needs_rehash(stored) else None,
    )
    done = internal.call("fluorine", command, SessionStarted, context)
    started = done.result
    logger.info("login succeeded", extra={"entity_id": str(started.entity.id), "session_id": str(started.session_id)})
    await_read_side(done.write_version, "a new login session")
    return _pair(started.entity, started.session_id, refresh, now)


def _throttle_key(found: Credentials) -> str:
    if found.throttle_key is None:  # Fluorine always names one
        raise InternalError("no throttle key in a credentials answer")
    return found.throttle_key


def await_read_side(write_version: str | None, what: str) -> None:
    """Best effort: answer once the read side knows what the write did, so the authorizer applies it
    on the next request (locally; deployed, after its cache): a new session and its entity (the
    authorizer refuses a session it does not know; a token that fresh is 503 until it does), a
    revoked session, a role change. The write is committed either way, so a slow read side is
    only logged."""
    try:
        wait_for_token(write_version, timeout=READ_SIDE_WAIT_SECONDS)
    except NotReady:
        logger.warning("read side slow to learn of a write", extra={"what": what})


def refresh(presented: str, context: internal.CallContext) -> TokenPair:
    """Spend ``presented`` for a new pair; a spent token revokes its whole session (and is a 401)."""
    now = clock()
    new, new_hash = new_refresh_token()
    command = RotateRefreshToken(
        presented_hash=token_hash(presented),
        new_hash=new_hash,
        at=now,
        expires_at=_refresh_expiry(now),
        grace_seconds=get_settings().refresh_grace_seconds,
    )
    done = internal.call("fluorine", command, Rotation, context)
    rotation = done.result
    if rotation.outcome == "reused":
        logger.warning("spent refresh token presented; session revoked", extra={"session_id": str(rotation.session_id)})
        await_read_side(done.write_version, "a revoked session")
    if rotation.outcome != "rotated" or rotation.entity is None or rotation.session_id is None:
        raise Unauthorized("The refresh token is invalid, expired or already used.")
    return _pair(rotation.entity, rotation.session_id, new, now)


def logout(presented: str, call: Call) -> internal.CallResult[SessionsRevoked]:
    """Revoke the caller's session holding ``presented``; the write version to answer.

    Like OAuth token revocation (RFC 7009), an unknown, foreign or already revoked token changes
    nothing and is not an error: logging out twice is harmless and reveals nothing. Such a logout
    still answers a write version (every successful write does): the caller's entity as it stands.
    """
    command = RevokeSession(entity_id=call.entity_id, refresh_hash=token_hash(presented), at=clock())
    done = internal.call("fluorine", command, SessionsRevoked, call.context)
    await_read_side(done.write_version, "a revoked session")
    return done


def check_current_password(entity_id: uuid.UUID, given: str | None, context: internal.CallContext) -> None:
    """Required to change the email or the password; wrong attempts are throttled like logins."""
    if given is None:
        raise InvalidRequest(
            "current_password is required to change the email or the password.",
            errors=[{"loc": ["body", "current_password"], "msg": "Field required", "type": "missing"}],
        )
    now = clock()
    command = LookUpCredentials(
        entity_id=entity_id, at=now, window_seconds=LOGIN_WINDOW_SECONDS, max_failures=MAX_LOGIN_FAILURES
    )
    found = internal.call("fluorine", command, Credentials, context).result
    if found.retry_after is not None:
        raise RateLimited("Too many wrong passwords; try again later.", retry_after=found.retry_after)
    if found.entity is None or found.entity.status != "active":
        raise NotFound("The entity does not exist.")
    if not verify_password(given, found.password_hash):
        failure = RecordLoginFailure(throttle_key=_throttle_key(found), source="", at=now)
        internal.call("fluorine", failure, FailureRecorded, context)
        raise Unauthorized("The current password is wrong.")
