"""Rhenium's use cases: plain functions of a validated request and its call; no HTTP, no SQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from uuid import UUID

from rhenium import connections
from rhenium.models import BroadcastBody, SendMessageBody, TicketOut
from shared import internal
from shared.access import require_role
from shared.context import Caller
from shared.contracts.rhenium import MarkRead, MessageState, ReadState, SendMessage, SendPlatformBroadcast
from shared.errors import Unauthorized
from shared.routes import Call
from shared.settings import get_settings


def send(body: SendMessageBody, call: Call) -> internal.CallResult[MessageState]:
    command = SendMessage(
        id=uuid.uuid4(),
        sender_id=call.entity_id,
        to_entity=body.to_entity,
        body=body.body,
        idempotency=call.idempotency,
    )
    return internal.call("fluorine", command, MessageState, call.context)


def broadcast(body: BroadcastBody, call: Call) -> internal.CallResult[MessageState]:
    """A platform broadcast: one message, read by every entity registered before it was sent."""
    require_role(call.caller)
    command = SendPlatformBroadcast(id=uuid.uuid4(), sender_id=call.entity_id, body=body.body)
    return internal.call("fluorine", command, MessageState, call.context)


def mark_read(message_id: UUID, call: Call) -> internal.CallResult[ReadState]:
    """Mark read for this reader; marking again changes nothing but still names the read state's version."""
    return internal.call("fluorine", MarkRead(message_id=message_id, entity_id=call.entity_id), ReadState, call.context)


def realtime_ticket(caller: Caller) -> TicketOut:
    """A ticket for one live-delivery connection of the caller (its hash only is kept, for 60 s)."""
    if caller.session_id is None:  # the authorizer admits no token without one
        raise Unauthorized("The token names no login session.")
    ticket, expires_at = connections.issue_ticket(connections.Holder(caller.entity_id, caller.session_id))
    url = get_settings().realtime_url or ""
    return TicketOut(ticket=ticket, url=url, expires_at=datetime.fromtimestamp(expires_at, UTC))
