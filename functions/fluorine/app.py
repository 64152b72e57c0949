"""Fluorine's internal entry point: a typed command in, a typed result (or error) out."""

from __future__ import annotations

import time
from typing import Any

from pydantic import ValidationError

from fluorine import bus
from fluorine.db import connection
from fluorine.publisher import publish
from shared import snapstart
from shared.auth.keys import write_version_key
from shared.aws import prime_dynamodb
from shared.errors import AppError, InternalError, InvalidRequest
from shared.internal import InternalRequest, failure_response
from shared.observability import logger

PUBLISH_RESERVE_SECONDS = 1.0  # kept back from the function's time to answer after publishing


__all__ = ["handler", "publish"]  # publish: what benchmarks wrap to time or project each publication


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        request = InternalRequest.model_validate(event)
    except ValidationError:
        return failure_response(InvalidRequest("not an internal request"))
    logger.set_correlation_id(request.context.request_id)
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
    return {"ok": True, "result": outcome.result, "write_version": outcome.write_version}


def _publish_deadline(context: Any) -> float | None:
    """When publishing must stop so the committed write is still answered within the function's timeout."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return None if remaining is None else time.monotonic() + remaining() / 1000 - PUBLISH_RESERVE_SECONDS


@snapstart.prime()
def prime() -> None:
    """Every command is parsed by the bus's registry, runs on PostgreSQL and is published to the
    change feed: the registry, the DynamoDB client, the keys, the connection (closed again before a
    snapshot by ``fluorine.db.close``: a restored environment opens its own on its first command)."""
    from fluorine.commands import load_all

    load_all()
    prime_dynamodb()
    write_version_key()
    connection()
