"""Derived writes: what an event consumer writes back through Fluorine for a committed event.

Rhenium's trigger writes two: it sends a transfer's recipient a system message whose id is
derived from the transfer's (``transfer_message_id``), and it has a group broadcast fanned out into
its members' inboxes (``FanOutBroadcast``, once per message). Each exists only if the consumer saw
the event, so a lost change-feed record (the feed's table recreated, a record past the stream's 24 h
retention, a record parked on the on-failure queue) would lose it for good. Instead, Fluorine
answers which committed events lack their derived write (``MissingDerivedWrites``, from the
outbox), and maintenance re-drives the consumer's own stream handler with exactly those events,
shaped as the change feed's stream delivers them: the consumer stays an event consumer, and being
idempotent by the derived id, a re-drive racing the live trigger writes each message once.
"""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from shared.contracts.changes import ChangeRecord, feed_image
from shared.contracts.maintenance import MissingDerivedWrite, MissingDerivedWrites, MissingDerivedWritesPage
from shared.contracts.nickel import TRANSFER_POSTED
from shared.contracts.rhenium import MESSAGE_SENT
from shared.internal import call

# Event type -> the stream handler of the consumer that derives a write from it (the function of
# template.yaml whose event source mapping is filtered to that type; a unit test keeps them equal).
CONSUMERS: dict[str, str] = {TRANSFER_POSTED: "rhenium.trigger.handler", MESSAGE_SENT: "rhenium.trigger.handler"}
BATCH_SIZE = 10  # the trigger's own mapping's BatchSize: one synchronous Fluorine call per record
REPLAYED_ARN = "arn:aws:dynamodb:local:000000000000:table/ChangeFeed/stream/replayed-from-outbox"


@dataclass
class ReplayContext:
    """The Lambda context a re-driven consumer sees (its logger wants one)."""

    function_name: str = "replay"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:local:000000000000:function:replay"
    aws_request_id: str = "replay"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 60_000


def missing(aggregate: str | None = None) -> Iterator[MissingDerivedWritesPage]:
    """Pages of the outbox's deriving events (of ``aggregate`` only, if given), each with those
    whose derived write is missing."""
    after = 0
    while True:
        command = MissingDerivedWrites(after=after, aggregate=aggregate)
        page = call("fluorine", command, MissingDerivedWritesPage).result
        yield page
        if page.next_after is None:
            return
        after = page.next_after


def stream_record(record: ChangeRecord) -> dict[str, Any]:
    """``record`` as the change feed's stream would deliver it to a consumer (an INSERT)."""
    image = feed_image(record)
    return {
        "eventID": uuid.uuid4().hex,
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "local",
        "dynamodb": {
            "Keys": {"aggregate": image["aggregate"], "version": image["version"]},
            "NewImage": image,
            "SequenceNumber": str(record.seq).zfill(21),
            "SizeBytes": len(str(image)),
            "StreamViewType": "NEW_IMAGE",
        },
        "eventSourceARN": REPLAYED_ARN,
    }


def consumer(event_type: str) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    module, _, name = CONSUMERS[event_type].rpartition(".")
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


def redrive(found: list[MissingDerivedWrite], context: Any = None) -> list[str]:
    """Hand each event to its consumer's stream handler, in the consumer's batch size; the
    aggregates whose record the consumer reported failed (the rest it has written)."""
    failed: list[str] = []
    for event_type in CONSUMERS:
        events = [f.event for f in found if f.event.event_type == event_type]
        for start in range(0, len(events), BATCH_SIZE):
            batch = {r["dynamodb"]["SequenceNumber"]: r for r in map(stream_record, events[start : start + BATCH_SIZE])}
            answer = consumer(event_type)({"Records": list(batch.values())}, context or ReplayContext())
            for failure in (answer or {}).get("batchItemFailures") or []:
                failed.append(batch[failure["itemIdentifier"]]["dynamodb"]["NewImage"]["aggregate"]["S"])
    return failed
