"""Fluorine's internal entry point: a typed command in, a typed result (or error) out."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from pydantic import ValidationError

from fluorine import bus
from fluorine.db import connection
from fluorine.publisher import publish
from shared import snapstart
from shared.auth.keys import write_version_key
from shared.aws import prime_dynamodb
from shared.contracts.changes import ChangeRecord
from shared.contracts.nickel import TRANSFER_POSTED
from shared.contracts.rhenium import MESSAGE_SENT
from shared.errors import AppError, InternalError, InvalidRequest
from shared.internal import InternalRequest, failure_response
from shared.observability import count, invocation, logger

PUBLISH_RESERVE_SECONDS = 1.0  # kept back from the function's time to answer after publishing


__all__ = ["handler", "publish"]  # publish: what benchmarks wrap to time or project each publication


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        request = InternalRequest.model_validate(event)
    except ValidationError:
        return failure_response(InvalidRequest("not an internal request"))
    invocation(context, request.context.request_id)
    actor = request.context.actor
    logger.append_keys(caller_id=str(actor.entity_id) if actor else None, command=request.command.get("command"))
    try:
        outcome = bus.execute(request.command, actor=actor)
    except AppError as error:
        if error.status >= 500:
            logger.exception("command failed")
        return failure_response(error)
    except Exception:
        logger.exception("command failed")
        return failure_response(InternalError())
    if outcome.records:
        publish(connection(), outcome.records, deadline=_publish_deadline(context))
        logger.debug("command committed", extra={"events": [r.event_type for r in outcome.records]})
        count_business(outcome.records)
    return {"ok": True, "result": outcome.result, "write_version": outcome.write_version}


def count_business(records: list[ChangeRecord]) -> None:
    """What a committed command did, as metrics: ``Events`` by type (entities registered, transfers
    posted, messages sent, holds placed...), ``ValueMoved`` by asset, ``Broadcasts`` by audience."""
    for event, n in Counter(r.event_type for r in records).items():
        count("Events", n, event=event)
    moved: Counter[str] = Counter()
    for record in records:
        if record.event_type == TRANSFER_POSTED:
            moved[str(record.payload.get("asset"))] += int(record.payload.get("amount") or 0)
        elif record.event_type == MESSAGE_SENT and not record.payload.get("to_entity"):
            count("Broadcasts", audience="group" if record.payload.get("to_group") else "platform")
    for asset, amount in moved.items():
        count("ValueMoved", amount, asset=asset)


def _publish_deadline(context: Any) -> float | None:
    """When publishing must stop so the committed write is still answered within the function's timeout."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return None if remaining is None else time.monotonic() + remaining() / 1000 - PUBLISH_RESERVE_SECONDS


@snapstart.prime()
def prime() -> None:
    """Every command is parsed by the bus's registry, runs on PostgreSQL and is published to the
    change feed: the registry, the DynamoDB client, the keys, the connection (closed again before a
    snapshot by ``fluorine.db.close``: a restored environment opens its own on its first command),
    and a rehearsal of the common commands on it, rolled back (``fluorine.rehearsal``)."""
    from fluorine.commands import load_all
    from fluorine.rehearsal import rehearse

    load_all()
    prime_dynamodb()
    write_version_key()
    rehearse(connection())
