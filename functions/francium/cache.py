"""The read cache (a DynamoDB table): items per aggregate, written only by projections.

Every item carries ``ver``, the version of the aggregate it was projected from; a write lands
only if it is newer than what is there, so duplicate or reordered change records never regress
a view. The aggregate's ``state`` item is also its version marker for ``X-Min-Version``.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache as once
from typing import Any

from botocore.exceptions import ClientError

from shared.aws import dynamodb, in_threads
from shared.errors import InvalidRequest
from shared.pagination import decode_cursor, encode_cursor
from shared.readcache import STATE, batch_get, get, item_data, table, versions

__all__ = [
    "STATE",
    "CacheItem",
    "batch_get",
    "get",
    "put_absent",
    "put_if_newer",
    "query_index",
    "query_page",
    "query_range",
    "table",
    "versions",
]


@dataclass(frozen=True)
class CacheItem:
    pk: str
    sk: str
    ver: int
    data: dict[str, Any] | None  # None: a tombstone (the thing was deleted at ``ver``)
    indexes: dict[str, str] = field(default_factory=dict)  # e.g. {"gsi1pk": ..., "gsi1sk": ...}


def conditional_put(item: CacheItem) -> dict[str, Any]:
    """The PutItem request that writes ``item`` only over an older version (or nothing)."""
    attrs: dict[str, Any] = {"pk": {"S": item.pk}, "sk": {"S": item.sk}, "ver": {"N": str(item.ver)}}
    if item.data is None:
        attrs["deleted"] = {"BOOL": True}
    else:
        attrs["data"] = {"S": json.dumps(item.data, separators=(",", ":"))}
        attrs.update({name: {"S": value} for name, value in item.indexes.items()})
    return {
        "TableName": table(),
        "Item": attrs,
        # An item whose version is not a number (corrupted) is overwritten like an older one.
        "ConditionExpression": "attribute_not_exists(ver) OR NOT attribute_type(ver, :n) OR ver < :ver",
        "ExpressionAttributeValues": {":ver": {"N": str(item.ver)}, ":n": {"S": "N"}},
    }


def put_if_newer(item: CacheItem, *, replacing: int | None = None) -> bool:
    """Write ``item`` unless the cache already holds that key at the same or a newer version.

    ``replacing``: also overwrite an item still at that version (a repair replacing a wrong item
    in one conditional write, so a reader never sees the key empty in between).
    """
    request = conditional_put(item)
    if replacing is not None:
        request["ConditionExpression"] += " OR ver = :was"
        request["ExpressionAttributeValues"][":was"] = {"N": str(replacing)}
    try:
        dynamodb().put_item(**request)
        return True
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise


BATCH_ITEMS = 25  # DynamoDB's limit of puts per BatchWriteItem
# Batch writes in flight at once: a 1,000-copy fan-out event is 40 requests, ~5 round trips.
WRITERS = 8


def put_absent(items: list[CacheItem]) -> int:
    """Write items whose keys hold nothing, 25 per request and without conditions (BatchWriteItem
    takes none): only for a rebuild while no projector writes the cache (the local stack's
    catch-up before its stream mappings start), when nothing can be newer. How many were written."""
    latest: dict[tuple[str, str], CacheItem] = {}
    for item in items:  # a batch may not name a key twice: the newest wins
        if (item.pk, item.sk) not in latest or latest[(item.pk, item.sk)].ver < item.ver:
            latest[(item.pk, item.sk)] = item
    return put_unconditionally(list(latest.values()))


@once
def _writers() -> ThreadPoolExecutor:
    """Threads kept for the container's life, for batch writes of many items."""
    return ThreadPoolExecutor(max_workers=WRITERS, thread_name_prefix="cache-writer")


def put_unconditionally(items: list[CacheItem]) -> int:
    """Write items 25 per BatchWriteItem, ``WRITERS`` requests at a time, without conditions,
    retrying what DynamoDB leaves unprocessed. Only for items no other write can make newer:
    immutable ones (a fan-out's copies, a function of an immutable message and a recipient), or a
    rebuild's (``put_absent``). The keys must be distinct. How many were written."""
    chunks = [items[start : start + BATCH_ITEMS] for start in range(0, len(items), BATCH_ITEMS)]
    if len(chunks) <= 1:
        return sum(_write_batch(c) for c in chunks)
    dynamodb()  # made here, once, and lent to the writer threads
    return sum(in_threads(_writers(), _write_batch, chunks))


def _write_batch(chunk: list[CacheItem]) -> int:
    request = {table(): [{"PutRequest": {"Item": conditional_put(i)["Item"]}} for i in chunk]}
    for attempt in range(8):
        unprocessed = dynamodb().batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
        if not unprocessed:
            return len(chunk)
        request = unprocessed
        time.sleep(min(1.0, 0.05 * 2**attempt))
    raise RuntimeError("the read cache kept refusing a batch write")


def query_index(index: str, key: str, *, limit: int = 20) -> list[dict[str, Any]]:
    """Live items whose ``<index>pk`` is ``key`` (eventually consistent)."""
    answer = dynamodb().query(
        TableName=table(),
        IndexName=index,
        KeyConditionExpression=f"{index}pk = :k",
        ExpressionAttributeValues={":k": {"S": key}},
        Limit=limit,
    )
    return [d for d in (item_data(i) for i in answer.get("Items", [])) if d is not None]


def _key_names(index: str | None) -> list[str]:
    return ["pk", "sk"] + ([f"{index}pk", f"{index}sk"] if index else [])


def query_page(
    partition: str,
    *,
    index: str | None = None,
    limit: int = 20,
    cursor: str | None = None,
    newest_first: bool = True,
    sk_prefix: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the live items of a partition (of the table or of ``index``), in sort-key order.

    The cursor can only move within ``partition``: one naming another partition is refused.
    """
    pk_name = f"{index}pk" if index else "pk"
    sk_name = f"{index}sk" if index else "sk"
    condition = f"{pk_name} = :pk" + (f" AND begins_with({sk_name}, :prefix)" if sk_prefix else "")
    values: dict[str, Any] = {":pk": {"S": partition}}
    if sk_prefix:
        values[":prefix"] = {"S": sk_prefix}
    request: dict[str, Any] = {
        "TableName": table(),
        "KeyConditionExpression": condition,
        "ExpressionAttributeValues": values,
        "ScanIndexForward": not newest_first,
        "Limit": limit + 1,
    }
    if index:
        request["IndexName"] = index
    start = decode_cursor(cursor)
    if start is not None:
        if start.get(pk_name) != partition or set(start) != set(_key_names(index)):
            raise InvalidRequest(
                "The cursor does not belong to this list.",
                errors=[{"loc": ["query", "cursor"], "msg": "Invalid cursor", "type": "value_error"}],
            )
        request["ExclusiveStartKey"] = {k: {"S": str(v)} for k, v in start.items()}
    answer = dynamodb().query(**request)
    raw = answer.get("Items", [])
    # More follows when DynamoDB had more than a page, or stopped at its 1 MB before the page was full.
    page, more = raw[:limit], len(raw) > limit or "LastEvaluatedKey" in answer
    next_cursor = encode_cursor({k: page[-1][k]["S"] for k in _key_names(index)}) if more and page else None
    return [d for d in (item_data(i) for i in page) if d is not None], next_cursor


def _range(partition: str, index: str, low: str, high: str) -> dict[str, Any]:
    """A query of an index partition's sort keys in [low, high]."""
    return {
        "TableName": table(),
        "IndexName": index,
        "KeyConditionExpression": f"{index}pk = :pk AND {index}sk BETWEEN :low AND :high",
        "ExpressionAttributeValues": {":pk": {"S": partition}, ":low": {"S": low}, ":high": {"S": high}},
    }


def count_range(partition: str, *, index: str, low: str, high: str) -> int:
    """How many items an index partition holds whose sort key is in [low, high] (tombstones carry
    no index keys, so every item counted is live). ``Select=COUNT``: no item travels back; DynamoDB
    still reads them (about one read unit per 4 KB read, one request per MB)."""
    request = {**_range(partition, index, low, high), "Select": "COUNT"}
    count = 0
    while True:
        answer = dynamodb().query(**request)
        count += int(answer.get("Count", 0))
        if "LastEvaluatedKey" not in answer:
            return count
        request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


def query_range(partition: str, *, index: str, low: str, high: str, limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` live items of an index partition whose sort key is in [low, high], newest first."""
    answer = dynamodb().query(**_range(partition, index, low, high), ScanIndexForward=False, Limit=limit)
    return [d for d in (item_data(i) for i in answer.get("Items", [])) if d is not None]
