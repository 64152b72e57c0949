"""GraphQL object types of entities, groups and messages (camelCase on the wire).

Each type is built from the read view's state model with ``of``; what a caller may not see is
never put into a type (the same rules as REST: public profiles only for other entities).

Why not strawberry's pydantic integration (``strawberry.experimental.pydantic.type``): the types
are not the state models. A profile is a subset of an entity, a group carries the caller's role,
a message its read flag, ids are GraphQL ``ID``s (the integration would publish pydantic's UUIDs as
a ``UUID`` scalar and change the schema clients were generated from), and the integration is
still experimental upstream. ``of`` is the one place each mapping is written.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import strawberry

from francium.graphql.connections import Connection, checked_cursor, connection, page_size
from francium.graphql.context import RequestContext
from francium.graphql.paging import member_cursor
from francium.views import groups
from shared.contracts.carbon import GroupState, MemberState
from shared.contracts.oxygen import EntityState
from shared.contracts.rhenium import MessageState
from shared.errors import Forbidden


@strawberry.type(description="The caller's own entity.")
class Entity:
    id: strawberry.ID
    kind: str
    handle: str
    display_name: str
    email: str | None
    roles: list[str]
    status: str
    created_at: datetime

    @classmethod
    def of(cls, state: EntityState) -> Entity:
        return cls(
            id=strawberry.ID(str(state.id)),
            kind=state.kind,
            handle=state.handle,
            display_name=state.display_name,
            email=state.email,
            roles=list(state.roles),
            status=state.status,
            created_at=state.created_at,
        )


@strawberry.type(description="What anyone may see of an active entity.")
class Profile:
    id: strawberry.ID
    kind: str
    handle: str
    display_name: str
    created_at: datetime

    @classmethod
    def of(cls, state: EntityState) -> Profile:
        return cls(
            id=strawberry.ID(str(state.id)),
            kind=state.kind,
            handle=state.handle,
            display_name=state.display_name,
            created_at=state.created_at,
        )


@strawberry.type(description="A current member of a group.")
class Member:
    entity_id: strawberry.ID
    role: str
    joined_at: datetime

    @strawberry.field(description="The member's public profile (null once deactivated).")
    def entity(self, info: strawberry.Info[RequestContext, None]) -> Profile | None:
        state = info.context.entities.active(_uuid(self.entity_id))
        return Profile.of(state) if state else None

    @classmethod
    def of(cls, state: MemberState) -> Member:
        return cls(entity_id=strawberry.ID(str(state.entity_id)), role=state.role, joined_at=state.joined_at)


@strawberry.type(description="A group the caller may see.")
class Group:
    id: strawberry.ID
    name: str
    description: str | None
    visibility: str
    owner_id: strawberry.ID
    member_count: int
    created_at: datetime
    role: str | None = strawberry.field(description="The caller's role in the group; null if not a member.")

    @strawberry.field(description="The group's members by joining time (members only: else forbidden).")
    def members(
        self,
        info: strawberry.Info[RequestContext, None],
        first: Annotated[int | None, strawberry.argument(description="Page size, 1..100 (default 20).")] = None,
        after: str | None = None,
    ) -> Connection[Member] | None:
        if self.role is None:
            raise Forbidden("Only members may list the members of a group.")
        page, more = groups.members_page(_uuid(self.id), page_size(first), checked_cursor(after))
        if _selects(info, "entity"):
            info.context.entities.prime(m.entity_id for m in page)
        return connection(page, more, member_cursor, Member.of)

    @classmethod
    def of(cls, state: GroupState, mine: MemberState | None) -> Group:
        return cls(
            id=strawberry.ID(str(state.id)),
            name=state.name,
            description=state.description,
            visibility=state.visibility,
            owner_id=strawberry.ID(str(state.owner_id)),
            member_count=state.member_count,
            created_at=state.created_at,
            role=mine.role if mine else None,
        )


@strawberry.type(description="Who a message was sent to: exactly one of the three is set.")
class Audience:
    entity_id: strawberry.ID | None
    group_id: strawberry.ID | None
    all: bool


@strawberry.type(description="A message in the caller's inbox.")
class Message:
    id: strawberry.ID
    from_: strawberry.ID | None = strawberry.field(name="from", description="The sender; null for the system.")
    to: Audience
    body: str
    sent_at: datetime
    read: bool

    @classmethod
    def of(cls, state: MessageState, read: bool) -> Message:
        audience = Audience(entity_id=_id(state.to_entity), group_id=_id(state.to_group), all=state.to_all)
        return cls(
            id=strawberry.ID(str(state.id)),
            from_=_id(state.sender_id),
            to=audience,
            body=state.body,
            sent_at=state.sent_at,
            read=read,
        )


def _id(value: object | None) -> strawberry.ID | None:
    return strawberry.ID(str(value)) if value is not None else None


def _uuid(value: str) -> UUID:
    return UUID(str(value))  # the ids of these types were built from UUIDs


def _selects(info: strawberry.Info[RequestContext, None], name: str) -> bool:
    """Whether the selection under this field asks for ``name`` anywhere (a cheap look-ahead)."""
    pending = list(info.selected_fields)
    while pending:
        field = pending.pop()
        if getattr(field, "name", None) == name:
            return True
        pending.extend(getattr(field, "selections", []) or [])
    return False
