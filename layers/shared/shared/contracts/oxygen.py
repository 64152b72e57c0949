"""Oxygen's contracts: entity state on the change feed, and the commands Fluorine runs for it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from shared.context import EntityKind

EntityStatus = Literal["active", "deactivated"]
# The platform roles an admin may grant (shared.access.PLATFORM_ROLES, as a type for schemas).
PlatformRole = Literal["admin", "issuer", "moderator"]
ENTITY_DEACTIVATED = "EntityDeactivated"  # an entity's status became "deactivated": its sessions end


def entity_aggregate(entity_id: UUID | str) -> str:
    return f"entity#{entity_id}"


class EntityState(BaseModel):
    """An entity as it is after a change; what ``Entity*`` events carry (never credentials)."""

    id: UUID
    kind: EntityKind
    handle: str
    display_name: str
    email: str | None = None
    roles: list[str] = Field(default_factory=list)
    status: EntityStatus = "active"
    created_at: datetime
    version: int = Field(ge=1)


class RegisterEntity(BaseModel):
    """Create an entity with its credentials (the password already hashed by Oxygen)."""

    command: Literal["register_entity"] = "register_entity"
    id: UUID
    kind: EntityKind
    handle: str
    display_name: str
    email: str | None = None
    password_hash: str = Field(repr=False)


class EntityOut(BaseModel):
    """The entity as its owner sees it (``GET /v1/entities/me``)."""

    id: UUID
    kind: EntityKind
    handle: str
    display_name: str
    email: str | None = None
    roles: list[str]
    status: EntityStatus
    created_at: datetime

    @classmethod
    def of(cls, state: EntityState) -> EntityOut:
        return cls.model_validate(state.model_dump(exclude={"version"}))


class PublicProfileOut(BaseModel):
    """The entity as everyone else sees it."""

    id: UUID
    kind: EntityKind
    handle: str
    display_name: str
    created_at: datetime

    @classmethod
    def of(cls, state: EntityState) -> PublicProfileOut:
        return cls.model_validate(state.model_dump(include={"id", "kind", "handle", "display_name", "created_at"}))


class PublicProfileList(BaseModel):
    items: list[PublicProfileOut]
    next_cursor: str | None = None


class EnsurePlatformAdmin(BaseModel):
    """Make sure an entity with this handle exists and holds the platform ``admin`` role.

    Creates it (kind ``real``) with the given credentials if the handle is free; otherwise adds
    the role to the existing entity and leaves its password alone.
    """

    command: Literal["ensure_platform_admin"] = "ensure_platform_admin"
    id: UUID
    handle: str
    display_name: str
    password_hash: str = Field(repr=False)


class UpdateEntity(BaseModel):
    """Change an active entity's profile or credentials; ``None`` leaves a field as it is.

    A new password ends every other login session of the entity (as a logout would); the session
    ``keep_session`` (the one that made the change) stays.
    """

    command: Literal["update_entity"] = "update_entity"
    entity_id: UUID
    display_name: str | None = None
    email: str | None = None
    password_hash: str | None = Field(default=None, repr=False)
    keep_session: UUID | None = None


class DeactivateEntity(BaseModel):
    """Deactivate an entity and revoke every login session it has; its handle stays reserved."""

    command: Literal["deactivate_entity"] = "deactivate_entity"
    entity_id: UUID
    at: datetime


class SetPlatformRoles(BaseModel):
    """Replace an active entity's platform roles."""

    command: Literal["set_platform_roles"] = "set_platform_roles"
    entity_id: UUID
    roles: list[PlatformRole]
