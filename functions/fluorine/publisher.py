"""Publishes committed outbox rows to the DynamoDB change feed.

Puts are conditional on the (aggregate, version) key being new, so publishing the same row twice
(after a crash, or by the sweeper racing the request) is harmless. A row is marked published
only after its put succeeded; whatever is left unmarked the sweeper publishes later.

Each aggregate's records are put one after the other, in the order written (one partition key:
its stream records keep that order); different aggregates' records are put at the same time,
``PUTTERS`` at once. A transfer's three records cost one DynamoDB round trip of latency, not
three, and the sweeper drains a backlog in parallel. Nothing reads the feed's order across
aggregates: DynamoDB Streams does not keep it either (they may fall in different shards).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import cache as once
from typing import Any

import psycopg
from botocore.exceptions import ClientError

from shared.aws import dynamodb, in_threads
from shared.contracts.changes import ChangeRecord, feed_image
from shared.observability import logger
from shared.settings import get_settings

FEED_RETENTION_SECONDS = 30 * 24 * 3600
PUTTERS = 8  # aggregates put at once (a thread each, kept for the container's life)


def change_feed_item(record: ChangeRecord) -> dict[str, Any]:
    return {**feed_image(record), "expires_at": {"N": str(int(time.time()) + FEED_RETENTION_SECONDS)}}


def put_record(record: ChangeRecord) -> None:
    try:
        dynamodb().put_item(
            TableName=get_settings().change_feed_table,
            Item=change_feed_item(record),
            ConditionExpression="attribute_not_exists(#aggregate)",
            ExpressionAttributeNames={"#aggregate": "aggregate"},
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise


def mark_published(conn: psycopg.Connection, seqs: list[int]) -> None:
    with conn.transaction():
        conn.execute("UPDATE outbox SET published_at = now() WHERE seq = ANY(%s)", (seqs,))


@once
def _putters() -> ThreadPoolExecutor:
    """Threads kept for the container's life, made at the first publish of several aggregates."""
    return ThreadPoolExecutor(max_workers=PUTTERS, thread_name_prefix="feed-putter")


def _lanes(records: Iterable[ChangeRecord]) -> list[list[ChangeRecord]]:
    """``records`` by aggregate, each aggregate's in the order given, aggregates in order of first record."""
    by_aggregate: dict[str, list[ChangeRecord]] = {}
    for record in records:
        by_aggregate.setdefault(record.aggregate, []).append(record)
    return list(by_aggregate.values())


def publish(conn: psycopg.Connection, records: list[ChangeRecord], deadline: float | None = None) -> bool:
    """Publish ``records``; False (and logged) if the feed could not take them all now.

    With a ``deadline`` (``time.monotonic()`` seconds) no put starts after it: the write is
    committed, so its caller must get its answer in time, and the sweeper publishes the rest.
    """
    stop = threading.Event()  # set by a failed put or the deadline: no lane starts another put

    def put_lane(lane: list[ChangeRecord]) -> list[int]:
        return _put_lane(lane, deadline, stop)

    work = _lanes(records)
    if len(work) > 1:
        dynamodb()  # made here, once, and lent to the putter threads
        put = in_threads(_putters(), put_lane, work)
    else:
        put = [put_lane(lane) for lane in work]
    done = [seq for lane_done in put for seq in lane_done]
    if done:
        try:
            mark_published(conn, done)
        except psycopg.Error:  # published but unmarked: the sweeper re-puts them, harmlessly
            logger.exception("could not mark outbox rows published")
    return len(done) == len(records)


def _put_lane(lane: list[ChangeRecord], deadline: float | None, stop: threading.Event) -> list[int]:
    """Put one aggregate's records in order until ``stop`` is set: by this lane or another, at a
    failed put (a feed that refuses one is not asked for hundreds more) or at the deadline (the
    lane that finds it past sets it). The seqs of those put. Never raises: the write is committed,
    the sweeper publishes the rest."""
    done: list[int] = []
    try:
        for record in lane:
            if stop.is_set():
                break
            if deadline is not None and time.monotonic() >= deadline:
                stop.set()
                logger.warning("out of time to publish; left for the sweeper", extra={"pending": len(lane) - len(done)})
                break
            put_record(record)
            done.append(record.seq)
    except Exception:
        stop.set()
        logger.exception("change feed publish failed; left for the sweeper", extra={"pending": len(lane) - len(done)})
    return done
