"""Rhenium's use cases: plain functions of a validated request and its caller; no HTTP, no SQL."""

from __future__ import annotations

import uuid
from uuid import UUID

from rhenium.models import BroadcastBody, SendMessageBody
from shared import internal
from shared.access import require_role
from shared.context import Caller
from shared.contracts.changes import Idempotency
from shared.contracts.rhenium import (
    MarkRead,
    MessageState,
    ReadState,
    SendMessage,
    SendPlatformBroadcast,
)

Context = internal.CallContext


def send(
    body: SendMessageBody, sender_id: UUID, idempotency: Idempotency | None, context: Context
) -> internal.CallResult[MessageState]:
    command = SendMessage(
        id=uuid.uuid4(), sender_id=sender_id, to_entity=body.to_entity, body=body.body, idempotency=idempotency
    )
    return internal.call("fluorine", command, MessageState, context)


def broadcast(body: BroadcastBody, caller: Caller, context: Context) -> internal.CallResult[MessageState]:
    """A platform broadcast: one message, read by every entity registered before it was sent."""
    require_role(caller)
    command = SendPlatformBroadcast(id=uuid.uuid4(), sender_id=caller.entity_id, body=body.body)
    return internal.call("fluorine", command, MessageState, context)


def mark_read(message_id: UUID, reader_id: UUID, context: Context) -> internal.CallResult[ReadState]:
    """Mark read for this reader; marking again changes nothing but still names the read state's version."""
    return internal.call("fluorine", MarkRead(message_id=message_id, entity_id=reader_id), ReadState, context)
