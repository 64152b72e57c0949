"""Rhenium's use cases: plain functions of a validated request and its call; no HTTP, no SQL."""

from __future__ import annotations

import uuid
from uuid import UUID

from rhenium.models import BroadcastBody, SendMessageBody
from shared import internal
from shared.access import require_role
from shared.contracts.rhenium import MarkRead, MessageState, ReadState, SendMessage, SendPlatformBroadcast
from shared.routes import Call


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
