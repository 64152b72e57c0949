"""Oxygen's credential commands: login lookups, throttling, login sessions and refresh tokens.

Their results carry password hashes only from Fluorine back to Oxygen over the internal call;
nothing here is ever emitted on the change feed except ``SessionState`` (which holds no token).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, Field, StringConstraints

from shared.contracts.oxygen import EntityState

TOKEN_HASH = r"^[0-9a-f]{64}$"  # noqa: S105 - a pattern, not a secret
ThrottleKey = Annotated[str, StringConstraints(pattern=TOKEN_HASH)]
SourceAddress = Annotated[str, StringConstraints(max_length=64)]  # an IP address; "" for "any address"
# Failed password attempts are counted over this window (login throttling, current passwords).
LOGIN_WINDOW_SECONDS = 15 * 60
SESSION_REVOKED = "SessionRevoked"  # a login session ended (logout, password change, deactivation)


def session_aggregate(session_id: UUID | str) -> str:
    return f"session#{session_id}"


def throttle_key(subject: str) -> str:
    """What failed attempts are counted under: a digest, never the login or the id itself."""
    return hashlib.sha256(subject.strip().lower().encode()).hexdigest()


def login_subject(entity_id: UUID | str) -> str:
    """Failed logins of a known entity count for the entity, whichever login (handle or email) named it."""
    return f"login#{entity_id}"


def entity_login(entity_id: UUID | str) -> str:
    """What wrong ``current_password`` attempts are counted under (throttled like logins)."""
    return f"entity#{entity_id}"


class Credentials(BaseModel):
    """An entity and its password hash (``None`` for both when unknown), or a throttled attempt.

    ``throttle_key`` is what a failure of this attempt is recorded under (the entity's, or for an
    unknown login a digest of the login, so a 429 says nothing about whether it exists).
    """

    entity: EntityState | None = None
    password_hash: str | None = Field(default=None, repr=False)
    retry_after: int | None = None  # seconds until the login may be tried again, when throttled
    throttle_key: ThrottleKey | None = None


class LookUpLogin(BaseModel):
    """The credentials for a handle or email, unless attempts from ``source`` are throttled at ``at``:
    ``max_per_source`` failures for the entity from that address, or ``max_total`` from all addresses,
    within the window."""

    command: Literal["look_up_login"] = "look_up_login"
    login: str = Field(min_length=1, max_length=254)
    source: SourceAddress
    at: datetime
    window_seconds: int = Field(ge=1)
    max_per_source: int = Field(ge=1)
    max_total: int = Field(ge=1)


class LookUpCredentials(BaseModel):
    """The credentials of one entity (to check its current password), unless throttled at ``at``."""

    command: Literal["look_up_credentials"] = "look_up_credentials"
    entity_id: UUID
    at: datetime
    window_seconds: int = Field(ge=1)
    max_failures: int = Field(ge=1)


class RecordLoginFailure(BaseModel):
    command: Literal["record_login_failure"] = "record_login_failure"
    throttle_key: ThrottleKey
    source: SourceAddress
    at: datetime


class FailureRecorded(BaseModel):
    failures_in_window: int


class StartSession(BaseModel):
    """A successful login: a new session holding its first refresh token; the failures of this
    attempt's throttle key from this address forgotten (other addresses' still count). A stored
    password hash weaker than today's parameters is replaced (``rehash``: the old hash, the new)."""

    command: Literal["start_session"] = "start_session"
    session_id: UUID
    entity_id: UUID
    throttle_key: ThrottleKey | None = None
    source: SourceAddress = ""
    refresh_hash: str = Field(pattern=TOKEN_HASH, repr=False)
    at: datetime
    expires_at: datetime
    rehash: tuple[str, str] | None = Field(default=None, repr=False)


class SessionStarted(BaseModel):
    session_id: UUID
    entity: EntityState


class RotateRefreshToken(BaseModel):
    """Spend a refresh token for a new one in the same session. A token spent more than
    ``grace_seconds`` ago revokes the session (someone holds a copy); within the grace it gets a
    new token of the same session too (two tabs refreshing at once)."""

    command: Literal["rotate_refresh_token"] = "rotate_refresh_token"
    presented_hash: str = Field(pattern=TOKEN_HASH, repr=False)
    new_hash: str = Field(pattern=TOKEN_HASH, repr=False)
    at: datetime
    expires_at: datetime
    grace_seconds: float = Field(default=10, ge=0, le=60)


class Rotation(BaseModel):
    outcome: Literal["rotated", "reused", "invalid"]
    session_id: UUID | None = None
    entity: EntityState | None = None


class RevokeSession(BaseModel):
    """Logout: revoke the session a refresh token belongs to, if it is the caller's."""

    command: Literal["revoke_session"] = "revoke_session"
    entity_id: UUID
    refresh_hash: str = Field(pattern=TOKEN_HASH, repr=False)
    at: datetime


class SessionsRevoked(BaseModel):
    sessions: list[UUID] = Field(default_factory=list)


class SessionState(BaseModel):
    """A login session as the read side knows it (what ``Session*`` events carry; no token)."""

    id: UUID
    entity_id: UUID
    revoked: bool
    version: int = Field(ge=1)
