"""Reads of messages: the caller's inbox (merged on read) and one message."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from francium.views import messages
from shared.context import require_caller
from shared.contracts.rhenium import MessageList, MessageOut, UnreadCount
from shared.errors import InvalidRequest, NotFound
from shared.list_params import Cursor, Limit
from shared.pagination import DEFAULT_LIMIT, decode_cursor, encode_cursor
from shared.routes import uuid_or_404

router = Router()


def position(cursor: str | None) -> str | None:
    """The sort key an inbox cursor continues before."""
    start = decode_cursor(cursor)
    if start is None:
        return None
    before = start.get("before")
    if not isinstance(before, str) or set(start) != {"before"} or len(before) > 200:
        raise InvalidRequest(
            "The cursor does not belong to this list.",
            errors=[{"loc": ["query", "cursor"], "msg": "Invalid cursor", "type": "value_error"}],
        )
    return before


@router.get("/v1/messages/inbox")
def inbox(
    unread: Annotated[bool | None, Query(description="true: only unread; false: only read; absent: all.")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> MessageList:
    """Direct messages, broadcasts of the caller's groups and platform broadcasts, newest first."""
    caller = require_caller(router.current_event.raw_event)
    page, after = messages.inbox_page(caller.entity_id, limit, position(cursor), unread, caller.registered_at)
    return MessageList(
        items=[MessageOut.of(state, read=read) for state, read in page],
        next_cursor=encode_cursor({"before": after}) if after else None,
    )


@router.get("/v1/messages/unread-count")
def unread_count() -> UnreadCount:
    """How many messages of the caller's inbox are unread (the ones ``inbox?unread=true`` lists)."""
    caller = require_caller(router.current_event.raw_event)
    return UnreadCount(unread=messages.unread_count(caller.entity_id, caller.registered_at))


@router.get("/v1/messages/<message_id>")
def message(message_id: str) -> MessageOut:
    """One message, to its sender or a recipient (404 to anyone else)."""
    caller = require_caller(router.current_event.raw_event)
    found = messages.message(uuid_or_404(message_id, "message"))
    if found is None or not messages.visible(found, caller.entity_id):
        raise NotFound("The message does not exist.")
    read = found.id in messages.read_ids([found.id], caller.entity_id)
    return MessageOut.of(found, read=read)
