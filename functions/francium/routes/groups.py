"""Reads of groups: one group, public groups, a group's members, the caller's groups."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from francium.views import groups
from shared.context import require_caller
from shared.contracts.carbon import GroupList, GroupOut, MemberList, MemberOut, MyGroupList, MyGroupOut
from shared.errors import Forbidden
from shared.list_params import Cursor, Limit
from shared.pagination import DEFAULT_LIMIT
from shared.routes import uuid_or_404

router = Router()


@router.get("/v1/groups")
def public_groups(
    visibility: Annotated[Literal["public"], Query(description="Only public groups are listed.")] = "public",
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> GroupList:
    """Public groups, oldest first."""
    require_caller(router.current_event.raw_event)
    found, after = groups.public_groups_page(limit, cursor)
    return GroupList(items=[GroupOut.of(g) for g in found], next_cursor=after)


@router.get("/v1/groups/<group_id>")
def group(group_id: str) -> GroupOut:
    """One group (a private group is 404 to anyone but its members)."""
    caller = require_caller(router.current_event.raw_event)
    found, _ = groups.visible_group(uuid_or_404(group_id, "group"), caller.entity_id)
    return GroupOut.of(found)


@router.get("/v1/groups/<group_id>/members")
def members(group_id: str, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> MemberList:
    """The group's members by joining time (members only: 404 for private groups, 403 for public)."""
    caller = require_caller(router.current_event.raw_event)
    found, mine = groups.visible_group(uuid_or_404(group_id, "group"), caller.entity_id)
    if mine is None:
        raise Forbidden("Only members may list the members of a group.")
    page, after = groups.members_page(found.id, limit, cursor)
    return MemberList(items=[MemberOut.of(m) for m in page], next_cursor=after)


@router.get("/v1/entities/me/groups")
def my_groups(limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> MyGroupList:
    """The caller's groups by joining time, each with the caller's role."""
    caller = require_caller(router.current_event.raw_event)
    page, after = groups.my_groups_page(caller.entity_id, limit, cursor)
    return MyGroupList(
        items=[MyGroupOut(**GroupOut.of(g).model_dump(), role=m.role) for g, m in page], next_cursor=after
    )
