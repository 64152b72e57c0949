"""Oxygen's credential commands: login lookups, throttling, login sessions and refresh tokens.

Their results carry password hashes only from Fluorine back to Oxygen over the internal call;
nothing here is ever emitted on the change feed except ``SessionState`` (which holds no token).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from shared.contracts.oxygen import EntityState

TOKEN_HASH = r"^[0-9a-f]{64}$"  # noqa: S105 - a pattern, not a secret


def session_aggregate(session_id: UUID | str) -> str:
    return f"session#{session_id}"


def login_key(login: str) -> str:
    """What failed logins are counted under: a digest of the normalised login, not the login."""
    return hashlib.sha256(login.strip().lower().encode()).hexdigest()


class Credentials(BaseModel):
    """An entity and its password hash (``None`` for both when unknown), or a throttled login."""

    entity: EntityState | None = None
    password_hash: str | None = Field(default=None, repr=False)
    retry_after: int | None = None  # seconds until the login may be tried again, when throttled


class LookUpLogin(BaseModel):
    """The credentials for a handle or email, unless the login is throttled at ``at``."""

    command: Literal["look_up_login"] = "look_up_login"
    login: str = Field(min_length=1, max_length=254)
    at: datetime
    window_seconds: int = Field(ge=1)
    max_failures: int = Field(ge=1)


def entity_login(entity_id: UUID | str) -> str:
    """What wrong ``current_password`` attempts are counted under (throttled like logins)."""
    return f"entity#{entity_id}"


class LookUpCredentials(BaseModel):
    """The credentials of one entity (to check its current password), unless throttled at ``at``."""

    command: Literal["look_up_credentials"] = "look_up_credentials"
    entity_id: UUID
    at: datetime
    window_seconds: int = Field(ge=1)
    max_failures: int = Field(ge=1)


class RecordLoginFailure(BaseModel):
    command: Literal["record_login_failure"] = "record_login_failure"
    login: str = Field(min_length=1, max_length=254)
    at: datetime
    window_seconds: int = Field(ge=1)


class FailureRecorded(BaseModel):
    failures_in_window: int


class StartSession(BaseModel):
    """A successful login: a new session holding its first refresh token; the login's failures forgotten."""

    command: Literal["start_session"] = "start_session"
    session_id: UUID
    entity_id: UUID
    login: str = Field(min_length=1, max_length=254)
    refresh_hash: str = Field(pattern=TOKEN_HASH, repr=False)
    at: datetime
    expires_at: datetime


class SessionStarted(BaseModel):
    session_id: UUID
    entity: EntityState


class RotateRefreshToken(BaseModel):
    """Spend a refresh token for a new one in the same session; a spent one revokes the session."""

    command: Literal["rotate_refresh_token"] = "rotate_refresh_token"
    presented_hash: str = Field(pattern=TOKEN_HASH, repr=False)
    new_hash: str = Field(pattern=TOKEN_HASH, repr=False)
    at: datetime
    expires_at: datetime


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
