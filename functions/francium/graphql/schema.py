"""The GraphQL schema: the Query root and the guards every query passes before it runs."""

from __future__ import annotations

import re
from typing import Annotated, Any
from uuid import UUID

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.schema.config import StrawberryConfig

from francium.graphql.connections import Connection, checked_cursor, connection, page_size
from francium.graphql.context import RequestContext
from francium.graphql.limits import QueryLimits
from francium.graphql.paging import message_cursor
from francium.graphql.types import Entity, Group, Message, Profile
from francium.graphql.wallet import AMOUNT_SCALAR, ASSET_CODE, Amount, Asset, Wallet
from francium.views import entities, groups, messages, wallets
from shared.contracts.rhenium import MessageState
from shared.errors import NotFound
from shared.pagination import MAX_LIMIT
from shared.validation import HANDLE_PATTERN

MAX_DEPTH = 8
MAX_ALIASES = 20
MAX_TOKENS = 2000
HANDLE_PATTERN_RE = re.compile(HANDLE_PATTERN)
Info = strawberry.Info[RequestContext, None]
IdArgument = Annotated[strawberry.ID, strawberry.argument(name="id")]


def _uuid_or_none(raw: str) -> UUID | None:
    try:
        return UUID(str(raw))
    except ValueError:
        return None


@strawberry.type
class Query:
    @strawberry.field(description="The caller's own entity.")
    def me(self, info: Info) -> Entity | None:
        found = entities.active_entity(info.context.caller.entity_id)
        if found is None:
            raise NotFound("The entity does not exist.")
        return Entity.of(found)

    @strawberry.field(description="An active entity's public profile; not_found if unknown or deactivated.")
    def entity(self, info: Info, id_: IdArgument) -> Profile | None:
        entity_id = _uuid_or_none(id_)
        found = info.context.entities.active(entity_id) if entity_id else None
        if found is None:
            raise NotFound("The entity does not exist.")
        return Profile.of(found)

    @strawberry.field(description="The active entity with this handle, or null.")
    def entity_by_handle(self, handle: str) -> Profile | None:
        if not HANDLE_PATTERN_RE.fullmatch(handle):
            return None
        found = entities.entity_by_handle(handle)
        return Profile.of(found) if found else None

    @strawberry.field(description="Assets by code (at most `first`, up to 100).")
    def assets(self, first: int | None = MAX_LIMIT) -> list[Asset]:
        page, _ = wallets.assets_page(page_size(first), None)
        return [Asset.of(a) for a in page]

    @strawberry.field(description="An asset by code; not_found if there is none.")
    def asset(self, code: str) -> Asset | None:
        found = wallets.asset(code) if ASSET_CODE.fullmatch(code) else None
        if found is None:
            raise NotFound("The asset does not exist.")
        return Asset.of(found)

    @strawberry.field(description="The caller's wallet: balances and transfer history.")
    def wallet(self, info: Info) -> Wallet:
        return Wallet(entity_id=strawberry.ID(str(info.context.caller.entity_id)))

    @strawberry.field(description="A group; not_found if it is gone or private to the caller.")
    def group(self, info: Info, id_: IdArgument) -> Group | None:
        group_id = _uuid_or_none(id_)
        if group_id is None:
            raise NotFound("The group does not exist.")
        found, mine = groups.visible_group(group_id, info.context.caller.entity_id)
        return Group.of(found, mine)

    @strawberry.field(description="The caller's groups by joining time (at most `first`, up to 100).")
    def my_groups(self, info: Info, first: int | None = MAX_LIMIT) -> list[Group]:
        page, _ = groups.my_groups_page(info.context.caller.entity_id, page_size(first), None)
        return [Group.of(group, mine) for group, mine in page]

    @strawberry.field(description="The caller's inbox, newest first; `unread: true` unread only, `false` read only.")
    def inbox(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description="Page size, 1..100 (default 20).")] = None,
        after: str | None = None,
        unread: bool | None = None,
    ) -> Connection[Message] | None:
        from francium.routes.messages import position

        caller = info.context.caller
        page, before = messages.inbox_page(
            caller.entity_id, page_size(first), position(checked_cursor(after)), unread, caller.registered_at
        )
        next_cursor = message_cursor(page[-1][0]) if before and page else None
        return connection(page, next_cursor, _message_edge_cursor, _message_node)

    @strawberry.field(
        description="How many messages of the caller's inbox are unread (what `inbox(unread: true)` lists)."
    )
    def unread_count(self, info: Info) -> int:
        return messages.unread_count(info.context.caller.entity_id, info.context.caller.registered_at)


def _message_edge_cursor(pair: tuple[MessageState, bool]) -> str:
    return message_cursor(pair[0])


def _message_node(pair: tuple[MessageState, bool]) -> Message:
    return Message.of(*pair)


class QuietSchema(strawberry.Schema):
    """Refusals (not_found, forbidden, ...) are answers, not incidents: strawberry would log each one
    with its stack trace at ERROR; execute.formatted logs only unexpected failures."""

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        return None


schema = QuietSchema(
    query=Query,
    config=StrawberryConfig(scalar_map={Amount: AMOUNT_SCALAR}),
    extensions=[
        lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
        lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        QueryLimits,
    ],
)
