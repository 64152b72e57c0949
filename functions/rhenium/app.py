"""Rhenium's routes: thin adapters from HTTP to the use cases in ``rhenium.logic``."""

from __future__ import annotations

from uuid import UUID

from aws_lambda_powertools.event_handler import Response

from rhenium import logic
from rhenium.models import BroadcastBody, SendMessageBody
from shared.context import fingerprint, idempotency_key_of, require_caller
from shared.contracts.changes import Idempotency
from shared.contracts.rhenium import MessageOut
from shared.errors import NotFound
from shared.http import call_context, create_app, lambda_handler, written

app = create_app()


@app.post("/v1/messages")
def send_message(body: SendMessageBody) -> Response[MessageOut]:
    event = app.current_event.raw_event
    caller = require_caller(event)
    key = idempotency_key_of(event)
    idem = Idempotency(caller_id=str(caller.entity_id), key=key, fingerprint=fingerprint(event)) if key else None
    done = logic.send(body, caller.entity_id, idem, call_context(app))
    return written(201, MessageOut.of(done.result, read=False), done.write_version or "")


@app.post("/v1/broadcasts")
def broadcast(body: BroadcastBody) -> Response[MessageOut]:
    caller = require_caller(app.current_event.raw_event)
    done = logic.broadcast(body, caller, call_context(app))
    return written(202, MessageOut.of(done.result, read=False), done.write_version or "")


@app.post("/v1/messages/<message_id>/read")
def mark_read(message_id: str) -> Response[None]:
    caller = require_caller(app.current_event.raw_event)
    try:
        target = UUID(message_id)
    except ValueError:
        raise NotFound("The message does not exist.") from None
    done = logic.mark_read(target, caller.entity_id, call_context(app))
    return written(204, None, done.write_version or "")


handler = lambda_handler(app)
