"""The change-feed stream handler: projects each record, reporting failures per item.

Records are handled in order; a failed record is reported in ``batchItemFailures`` so the event
source mapping retries from it (and, after its retries, sends it to the on-failure destination)
without blocking the shard forever.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from francium import projector
from shared import snapstart
from shared.aws import prime_dynamodb
from shared.contracts.changes import ChangeRecord
from shared.observability import count, follow, invocation, logger, observe

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def change_record(record: DynamoDBRecord) -> ChangeRecord | None:
    """The change record of an INSERT on the change feed (None for TTL removals and the like)."""
    if record.event_name is None or record.event_name.name != "INSERT" or record.dynamodb is None:
        return None
    image = record.dynamodb.new_image
    return ChangeRecord(
        aggregate=image["aggregate"],
        version=int(image["version"]),
        event_type=image["event_type"],
        payload=json.loads(image["payload"]),
        seq=int(image["seq"]),
        occurred_at=image["occurred_at"],
        correlation_id=image.get("correlation_id"),
    )


_lags: list[float] = []  # this batch's commit -> projected delays, in milliseconds


def record_handler(record: DynamoDBRecord) -> None:
    change = change_record(record)
    if change is not None:
        follow(change.correlation_id)
        projector.apply(change)
        logger.debug("projected", extra={"aggregate": change.aggregate, "version": change.version})
        _lags.append((datetime.now(UTC) - change.occurred_at).total_seconds() * 1000)


def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    """Project a batch; metrics: ``ProjectionLag`` (commit to projected, ms) for each record
    projected, ``RecordsFailed`` for those left to the mapping's retries (and, after them, the
    failure queue)."""
    invocation(context)
    _lags.clear()
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    observe("ProjectionLag", _lags, MetricUnit.Milliseconds)
    failed = len(response.get("batchItemFailures") or [])
    if failed:
        count("RecordsFailed", failed)
    return response


@snapstart.prime()
def prime() -> None:
    """Every batch projects into the read cache: its client, and every view's projections."""
    from francium.views import load_all

    prime_dynamodb("PutItem")  # a projection is a conditional put
    load_all()
