"""Rhenium's change-feed consumer: the recipient of a transfer gets a system message, a group
broadcast is fanned out into its fanned members' inboxes (Fluorine's ``FanOutBroadcast``), every
message that enters inboxes is pushed live to its readers' open WebSockets (``rhenium.live``), and
a revoked login session's or a deactivated entity's live connections are closed.

The message id is derived from the transfer id (uuid5) and Fluorine writes a given id at most
once, so a redelivered or retried stream record never sends a second message, and maintenance
may re-drive this handler with the outbox's events whose message is missing (``francium.derived``).
A failing record is reported in ``batchItemFailures`` and retried from there, as for Francium's
projector.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from rhenium import live
from shared import internal, snapstart
from shared.aws import connections_api, prime_dynamodb
from shared.contracts.nickel import TRANSFER_POSTED, TransferState
from shared.contracts.oxygen import ENTITY_DEACTIVATED, EntityState
from shared.contracts.oxygen_auth import SESSION_REVOKED, SessionState
from shared.contracts.rhenium import (
    MESSAGE_SENT,
    FanOut,
    FanOutBroadcast,
    MessageState,
    SendSystemMessage,
    transfer_message_id,
)
from shared.errors import NotFound
from shared.observability import follow, invocation, logger
from shared.settings import get_settings

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def notice_text(notice: TransferState) -> str:
    source = f"entity {notice.from_}" if notice.from_ else f"the issuer of {notice.asset}"
    text = f"You received {notice.amount} {notice.asset} (minor units) from {source} ({notice.kind})."
    return f"{text} Memo: {notice.memo}" if notice.memo else text


def transfer_notice(record: DynamoDBRecord) -> TransferState | None:
    """The transfer an inserted ``TransferPosted`` change record announces, if that is what it is."""
    if record.event_name is None or record.event_name.name != "INSERT" or record.dynamodb is None:
        return None
    image = record.dynamodb.new_image
    if image.get("event_type") != TRANSFER_POSTED or not str(image.get("aggregate", "")).startswith("transfer#"):
        return None
    return TransferState.model_validate(json.loads(image["payload"]))


def notify(notice: TransferState) -> MessageState | None:
    """Send the recipient their system message (once per transfer); None if there is nobody to tell."""
    if notice.to is None:
        return None
    command = SendSystemMessage(id=transfer_message_id(notice.id), to_entity=notice.to, body=notice_text(notice))
    try:
        sent = internal.call("fluorine", command, MessageState).result
        logger.debug("system message sent", extra={"message_id": str(sent.id)})
        return sent
    except NotFound:
        logger.info("transfer recipient gone; no system message", extra={"transfer": str(notice.id)})
        return None


def fan_out(message: MessageState) -> FanOut:
    """Have Fluorine copy a group broadcast into its fanned members' inboxes (once per message)."""
    done = internal.call("fluorine", FanOutBroadcast(message_id=message.id), FanOut).result
    logger.info(
        "group broadcast fanned out",
        extra={"message_id": str(done.message_id), "recipients": done.recipients, "already": done.already},
    )
    return done


def inserted(record: DynamoDBRecord, event_type: str) -> dict[str, Any] | None:
    """The payload of an inserted change record of ``event_type``, if that is what it is."""
    if record.event_name is None or record.event_name.name != "INSERT" or record.dynamodb is None:
        return None
    image = record.dynamodb.new_image
    return json.loads(image["payload"]) if image.get("event_type") == event_type else None  # type: ignore[no-any-return]


def record_handler(record: DynamoDBRecord) -> None:
    if record.dynamodb is not None and record.dynamodb.new_image:
        follow(record.dynamodb.new_image.get("correlation_id"))
    notice = transfer_notice(record)
    if notice is not None:
        notify(notice)
    if (message := inserted(record, MESSAGE_SENT)) is not None:
        sent = MessageState.model_validate(message)
        live.push(sent)  # first: a fan-out is not what an open connection waits for
        if sent.to_group is not None:
            fan_out(sent)
    if (session := inserted(record, SESSION_REVOKED)) is not None:
        live.disconnect(SessionState.model_validate(session))
    if (entity := inserted(record, ENTITY_DEACTIVATED)) is not None:
        live.disconnect(EntityState.model_validate(entity))


def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    invocation(context)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)


@snapstart.prime()
def prime() -> None:
    """Every message's record reads its readers' open connections (DynamoDB). A group broadcast
    and a transfer's notice call Fluorine: its Lambda client stays lazy, since a batch of direct
    messages does not need it."""
    prime_dynamodb("Query")  # readers' connections
    if get_settings().realtime_endpoint:
        connections_api()
