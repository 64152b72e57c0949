"""Oxygen's request and response bodies."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shared.context import EntityKind
from shared.contracts.oxygen import PlatformRole
from shared.validation import DisplayName, Email, Handle, Password

# Secret fields are ``repr=False``: Powertools logs a route's arguments by repr at DEBUG.
# What a login or a presented token may be: bounded, so nothing oversized reaches Argon2 or SQL.
Login = Annotated[str, StringConstraints(min_length=1, max_length=254)]
GivenPassword = Annotated[str, StringConstraints(min_length=1, max_length=128)]
OpaqueToken = Annotated[str, StringConstraints(min_length=1, max_length=512)]


class RegisterBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: EntityKind
    handle: Handle
    display_name: DisplayName
    email: Email | None = None
    password: Password = Field(repr=False)


class LoginBody(BaseModel):
    """``login`` is a handle or an email address."""

    model_config = ConfigDict(extra="forbid")

    login: Login
    password: GivenPassword = Field(repr=False)


class RefreshBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: OpaqueToken = Field(repr=False)


class TokenPair(BaseModel):
    access_token: str = Field(repr=False)
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the scheme name, not a secret
    expires_in: int = Field(description="Seconds until the access token expires.")
    refresh_token: str = Field(repr=False)


class UpdateMeBody(BaseModel):
    """Any of ``display_name``, ``email``, ``password``; ``current_password`` is required to change
    ``email`` or ``password``. Fields may be left out but not set to null."""

    model_config = ConfigDict(extra="forbid")

    display_name: DisplayName = None  # type: ignore[assignment]
    email: Email = None  # type: ignore[assignment]
    password: Password = Field(default=None, repr=False)  # type: ignore[assignment]
    current_password: GivenPassword = Field(default=None, repr=False)  # type: ignore[assignment]


class RolesBody(BaseModel):
    """The entity's complete set of platform roles (replaces the current one)."""

    model_config = ConfigDict(extra="forbid")

    roles: list[PlatformRole] = Field(max_length=10)


class Jwk(BaseModel):
    model_config = ConfigDict(extra="allow")

    kid: str
    kty: str
    alg: str
    use: str


class Jwks(BaseModel):
    keys: list[Jwk]

    @classmethod
    def of(cls, document: dict[str, Any]) -> Jwks:
        return cls.model_validate(document)
