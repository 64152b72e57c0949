"""Publishes committed outbox rows to the DynamoDB change feed.

Puts are conditional on the (aggregate, version) key being new, so publishing the same row twice
(after a crash, or by the sweeper racing the request) is harmless. A row is marked published
only after its put succeeded; whatever is left unmarked the sweeper publishes later.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg
from botocore.exceptions import ClientError

from shared.aws import dynamodb
from shared.contracts.changes import ChangeRecord, feed_image
from shared.observability import logger
from shared.settings import get_settings

FEED_RETENTION_SECONDS = 30 * 24 * 3600


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


def publish(conn: psycopg.Connection, records: list[ChangeRecord], deadline: float | None = None) -> bool:
    """Publish ``records``; False (and logged) if the feed could not take them all now.

    With a ``deadline`` (``time.monotonic()`` seconds) no put starts after it: the write is
    committed, so its caller must get its answer in time, and the sweeper publishes the rest.
    """
    done: list[int] = []
    try:
        for record in records:
            if deadline is not None and time.monotonic() >= deadline:
                logger.warning(
                    "out of time to publish; left for the sweeper", extra={"pending": len(records) - len(done)}
                )
                break
            put_record(record)
            done.append(record.seq)
    except Exception:  # the write is committed: never fail the request, the sweeper will retry
        logger.exception(
            "change feed publish failed; left for the sweeper", extra={"pending": len(records) - len(done)}
        )
    if done:
        try:
            mark_published(conn, done)
        except psycopg.Error:  # published but unmarked: the sweeper re-puts them, harmlessly
            logger.exception("could not mark outbox rows published")
    return len(done) == len(records)
