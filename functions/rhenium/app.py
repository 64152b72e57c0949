"""Rhenium's routes: each declares its answer (and Idempotency-Key) and calls one use case."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from rhenium import logic
from rhenium.models import BroadcastBody, SendMessageBody, TicketOut
from shared import snapstart
from shared.aws import prime_dynamodb
from shared.context import require_caller
from shared.contracts.rhenium import MessageOut, MessageState, ReadState
from shared.http import create_app, json_response, lambda_handler, prime_request
from shared.internal import CallResult, prime_invoke
from shared.routes import Call, Writes, uuid_or_404

app = create_app()
writes = Writes(app)


@writes.post("/v1/messages", 201, MessageOut, idempotency="optional")
def send_message(body: SendMessageBody, call: Call) -> CallResult[MessageState]:
    """Send a message to an entity."""
    return logic.send(body, call)


@writes.post("/v1/broadcasts", 202, MessageOut)
def broadcast(body: BroadcastBody, call: Call) -> CallResult[MessageState]:
    """Send a message to every active entity (platform admin)."""
    return logic.broadcast(body, call)


@writes.post("/v1/messages/<message_id>/read", 204)
def mark_read(message_id: str, call: Call) -> CallResult[ReadState]:
    """Mark a message of the caller's inbox read."""
    return logic.mark_read(uuid_or_404(message_id, "message"), call)


@app.post(
    "/v1/realtime/tickets",
    responses={201: {"description": "Created", "content": {"application/json": {"model": TicketOut}}}},
)
def realtime_ticket() -> Response[TicketOut]:
    """A single-use ticket (valid 60 s) for one live-delivery WebSocket connection of the caller."""
    caller = require_caller(app.current_event.raw_event)
    return json_response(201, logic.realtime_ticket(caller), {"Cache-Control": "no-store"})


handler = lambda_handler(app)


@snapstart.prime()
def prime() -> None:
    """Every route calls Fluorine and reads the read cache: their clients, and the routes' validation."""
    prime_dynamodb()
    prime_invoke(MessageState)
    prime_request(handler, "POST", "/v1/messages", "{}")
