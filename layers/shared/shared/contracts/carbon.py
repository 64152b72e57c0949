"""Carbon's contracts: group and membership state on the change feed, and Fluorine's commands."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, Field, StringConstraints

Visibility = Literal["public", "private"]
Role = Literal["owner", "admin", "member"]
GrantableRole = Literal["member", "admin"]
GroupName = Annotated[str, StringConstraints(min_length=1, max_length=100)]
GroupDescription = Annotated[str, StringConstraints(max_length=1000)]


def group_aggregate(group_id: UUID | str) -> str:
    return f"group#{group_id}"


def member_aggregate(group_id: UUID | str, entity_id: UUID | str) -> str:
    """One aggregate per (group, entity): its versions survive leaving and re-joining."""
    return f"member#{group_id}:{entity_id}"


class GroupState(BaseModel):
    id: UUID
    name: str
    description: str | None = None
    visibility: Visibility
    owner_id: UUID
    member_count: int
    created_at: datetime
    deleted: bool = False
    # Its current members whose memberships are fanned (receive its broadcasts as copies).
    fanned_members: int = 0
    version: int = Field(ge=1)


class MemberState(BaseModel):
    """A membership; ``left_at`` set once the entity left (or was removed)."""

    group_id: UUID
    entity_id: UUID
    role: Role
    joined_at: datetime
    left_at: datetime | None = None
    # Whether the group's broadcasts reach this membership as copies in the member's own inbox
    # (fan-out on write) rather than by reading the group's partition (fan-out on read).
    fanned: bool = False
    version: int = Field(ge=1)

    @property
    def current(self) -> bool:
        return self.left_at is None


class CreateGroup(BaseModel):
    command: Literal["create_group"] = "create_group"
    id: UUID
    owner_id: UUID
    name: GroupName
    description: GroupDescription | None = None
    visibility: Visibility


class UpdateGroup(BaseModel):
    """Change the given fields; ``description_set`` tells a cleared description from an absent one."""

    command: Literal["update_group"] = "update_group"
    group_id: UUID
    actor_id: UUID
    name: GroupName | None = None
    description: GroupDescription | None = None
    description_set: bool = False
    visibility: Visibility | None = None


class DeleteGroup(BaseModel):
    command: Literal["delete_group"] = "delete_group"
    group_id: UUID
    actor_id: UUID


class JoinGroup(BaseModel):
    command: Literal["join_group"] = "join_group"
    group_id: UUID
    entity_id: UUID


class AddMember(BaseModel):
    command: Literal["add_member"] = "add_member"
    group_id: UUID
    actor_id: UUID
    entity_id: UUID
    role: GrantableRole = "member"


class ChangeMemberRole(BaseModel):
    command: Literal["change_member_role"] = "change_member_role"
    group_id: UUID
    actor_id: UUID
    entity_id: UUID
    role: GrantableRole


class RemoveMember(BaseModel):
    """An admin removing a member, or a member (``entity_id == actor_id``) leaving."""

    command: Literal["remove_member"] = "remove_member"
    group_id: UUID
    actor_id: UUID
    entity_id: UUID


class TransferOwnership(BaseModel):
    command: Literal["transfer_ownership"] = "transfer_ownership"
    group_id: UUID
    actor_id: UUID
    entity_id: UUID


class ListRecipients(BaseModel):
    """Who a distribution pays: the group's current members but the actor (an owner or admin)."""

    command: Literal["list_group_recipients"] = "list_group_recipients"
    group_id: UUID
    actor_id: UUID


class Recipients(BaseModel):
    recipients: list[UUID]
    group_version: int = Field(ge=1)  # what a distribution that pays no one answers as its write version


class GroupOut(BaseModel):
    id: UUID
    name: str
    description: str | None = None
    visibility: Visibility
    owner_id: UUID
    member_count: int
    created_at: datetime

    @classmethod
    def of(cls, state: GroupState) -> GroupOut:
        return cls.model_validate(state.model_dump(exclude={"version", "deleted", "fanned_members"}))


class MyGroupOut(GroupOut):
    role: Role


class MemberOut(BaseModel):
    entity_id: UUID
    role: Role
    joined_at: datetime

    @classmethod
    def of(cls, state: MemberState) -> MemberOut:
        return cls(entity_id=state.entity_id, role=state.role, joined_at=state.joined_at)


class GroupList(BaseModel):
    items: list[GroupOut]
    next_cursor: str | None = None


class MyGroupList(BaseModel):
    items: list[MyGroupOut]
    next_cursor: str | None = None


class MemberList(BaseModel):
    items: list[MemberOut]
    next_cursor: str | None = None
