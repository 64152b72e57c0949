"""Reading the read cache (Francium's DynamoDB table): what the shared plumbing needs of it.

Francium's projector is the only writer. The authorizer reads the token holder's entity and login
session here, and read-your-writes waits here for aggregates to reach a version; Francium's views
build on the same primitives (``francium.cache``). Everything read here is a hint, never proof:
writes are authorized by Fluorine on PostgreSQL (see docs/architecture.md, "Trust boundaries").

An item that cannot be read (its data not a JSON object, its version not a number: a corrupted
table) is ``CorruptItem``, a ``not_ready`` answer: the request is answered 503 with
``Retry-After``, its aggregate is re-projected from the truth (``shared.repair``), and the retry
reads it repaired. It is never a 500, and never read as if it were absent.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache as once
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from pydantic import BaseModel, ValidationError

from shared import write_versions
from shared.aws import dynamodb, in_threads
from shared.contracts.changes import AggregateVersion
from shared.contracts.oxygen import EntityState, entity_aggregate
from shared.contracts.oxygen_auth import SessionState, session_aggregate
from shared.errors import AppError, NotReady
from shared.observability import logger
from shared.repair import request_repair
from shared.settings import get_settings

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

M = TypeVar("M", bound=BaseModel)
STATE = "state"
BATCH_GET_MAX = 100  # DynamoDB's BatchGetItem limit
GETTERS = 8  # BatchGetItem requests of one ``batch_get`` in flight at once
FIRST_PAUSE = 0.01
MAX_PAUSE = 0.2


def timekey(moment: datetime) -> str:
    """A timestamp that sorts as text in time order (fixed width, UTC, microseconds): the time part
    of every time-ordered index key of the read cache."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def table() -> str:
    return get_settings().read_cache_table


class CorruptItem(NotReady):
    """A read-cache item that cannot be read; its aggregate (``pk``) is to be re-projected."""

    def __init__(self, pk: str, sk: str) -> None:
        super().__init__("Part of the read side is being repaired; retry shortly.", headers={"Retry-After": "1"})
        self.pk, self.sk = pk, sk


def unreadable(pk: str, sk: str, why: str) -> CorruptItem:
    logger.error("unreadable read-cache item", extra={"pk": pk, "sk": sk, "why": why})
    return CorruptItem(pk, sk)


class CachedData(dict[str, Any]):
    """An item's data, remembering where it was read (so a reader that cannot use it can say which)."""

    pk: str
    sk: str


def item_data(item: dict[str, Any] | None) -> dict[str, Any] | None:
    """The live data of a raw item, or None if absent or a tombstone; ``CorruptItem`` if unreadable."""
    if not item or "deleted" in item or "data" not in item:
        return None
    try:
        data = json.loads(item["data"]["S"])
        int(item["ver"]["N"])
    except (KeyError, TypeError, ValueError) as exc:
        raise unreadable(_key_of(item, "pk"), _key_of(item, "sk"), type(exc).__name__) from None
    if not isinstance(data, dict):
        raise unreadable(_key_of(item, "pk"), _key_of(item, "sk"), "not an object")
    cached = CachedData(data)
    cached.pk, cached.sk = _key_of(item, "pk"), _key_of(item, "sk")
    return cached


def decode(model: type[M], data: dict[str, Any]) -> M:
    """Read cache data as ``model``; ``CorruptItem`` (naming the item, if known) if it is not one."""
    try:
        return model.model_validate(data)
    except ValidationError:
        raise unreadable(getattr(data, "pk", ""), getattr(data, "sk", ""), f"not a {model.__name__}") from None


def _key_of(item: dict[str, Any], name: str) -> str:
    value = item.get(name)
    return str(value.get("S", "")) if isinstance(value, dict) else ""


def answered(error: AppError) -> None:
    """An error is being answered to a client: if it is an unreadable item, have it repaired."""
    if isinstance(error, CorruptItem) and error.pk:
        request_repair([error.pk])


def get(pk: str, sk: str = STATE, *, consistent: bool = False) -> dict[str, Any] | None:
    """The live data at (pk, sk), or None if absent or deleted."""
    answer = dynamodb().get_item(TableName=table(), Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=consistent)
    return item_data(answer.get("Item"))


def batch_items(
    keys: list[tuple[str, str]], *, consistent: bool = False, projection: str | None = None
) -> Iterator[dict[str, Any]]:
    """The raw items of many (pk, sk) keys, 100 a call, unprocessed keys retried with backoff."""
    unique = list(dict.fromkeys(keys))
    for start in range(0, len(unique), BATCH_GET_MAX):
        chunk = [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in unique[start : start + BATCH_GET_MAX]]
        spec: dict[str, Any] = {"Keys": chunk, "ConsistentRead": consistent}
        if projection:
            spec["ProjectionExpression"] = projection
        request: dict[str, Any] = {table(): spec}
        pause = FIRST_PAUSE
        while request:
            answer = dynamodb().batch_get_item(RequestItems=request)
            yield from answer["Responses"].get(table(), [])
            request = answer.get("UnprocessedKeys") or {}
            if request:  # throttled: DynamoDB asks for exponential backoff before retrying
                time.sleep(pause)
                pause = min(MAX_PAUSE, pause * 2)


@once
def _getters() -> ThreadPoolExecutor:
    """Threads kept for the container's life, for the requests of a batch read of many keys (made,
    and their module imported, by the first such read: most functions never make one)."""
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(max_workers=GETTERS, thread_name_prefix="cache-getter")


def batch_get(keys: list[tuple[str, str]], *, consistent: bool = False) -> dict[tuple[str, str], dict[str, Any]]:
    """Live data for many (pk, sk) keys in as few round trips as DynamoDB allows: over 100 keys,
    their requests are in flight at the same time (a reader's 1,000 groups wait one round trip)."""
    unique = list(dict.fromkeys(keys))
    chunks = [unique[start : start + BATCH_GET_MAX] for start in range(0, len(unique), BATCH_GET_MAX)]
    items: Iterator[dict[str, Any]] = batch_items(unique, consistent=consistent)
    if len(chunks) > 1:
        dynamodb()  # made here, once, and lent to the threads
        read = in_threads(_getters(), lambda chunk: list(batch_items(chunk, consistent=consistent)), chunks)
        items = itertools.chain.from_iterable(read)
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for item in items:
        data = item_data(item)
        if data is not None:
            found[(item["pk"]["S"], item["sk"]["S"])] = data
    return found


def index_items(partition: str, *, index: str, high: str) -> list[dict[str, Any]]:
    """Every live item of an index partition whose sort key is at most ``high``, in key order
    (paged past 1 MB)."""
    request: dict[str, Any] = {
        "TableName": table(),
        "IndexName": index,
        "KeyConditionExpression": f"{index}pk = :pk AND {index}sk <= :high",
        "ExpressionAttributeValues": {":pk": {"S": partition}, ":high": {"S": high}},
    }
    found: list[dict[str, Any]] = []
    while True:
        answer = dynamodb().query(**request)
        found += [d for d in (item_data(i) for i in answer.get("Items", [])) if d is not None]
        if "LastEvaluatedKey" not in answer:
            return found
        request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


def versions(pks: list[str]) -> dict[str, int]:
    """The projected version of each aggregate (its state item's ``ver``), strongly consistent."""
    found: dict[str, int] = {}
    for item in batch_items([(pk, STATE) for pk in pks], consistent=True, projection="pk, ver"):
        pk = _key_of(item, "pk")
        try:
            found[pk] = int(item["ver"]["N"])
        except (KeyError, TypeError, ValueError):
            raise unreadable(pk, STATE, "version") from None
    return found


def token_holder(entity_id: UUID, session_id: UUID) -> tuple[EntityState | None, SessionState | None]:
    """The entity and the login session of an access token, in one strongly consistent round trip
    (a logout or a deactivation that answered must be seen by the very next request). An unreadable
    item reads as unknown: the authorizer then has it repaired and decides on what the truth says."""
    keys = [(entity_aggregate(entity_id), STATE), (session_aggregate(session_id), STATE)]
    found: dict[tuple[str, str], dict[str, Any] | None] = {}
    for item in batch_items(keys, consistent=True):
        try:
            found[(_key_of(item, "pk"), _key_of(item, "sk"))] = item_data(item)
        except CorruptItem:
            continue
    return _readable(EntityState, found.get(keys[0])), _readable(SessionState, found.get(keys[1]))


def _readable(model: type[M], data: dict[str, Any] | None) -> M | None:
    try:
        return None if data is None else decode(model, data)
    except CorruptItem:
        return None


def wait_for_token(token: str | None, *, timeout: float | None = None) -> None:
    """Wait for the read side to reflect a token Fluorine has just answered (an element's own
    write, before it answers: a logout, a deactivation); ``NotReady`` past the bound."""
    if token:
        wait_for_versions(write_versions.read(token)[1], timeout=timeout)


def wait_for_versions(wanted: list[AggregateVersion], *, timeout: float | None = None) -> None:
    """Return once every aggregate is projected at (at least) its version; else ``NotReady``.

    Polls with backoff (10 ms doubling to 200 ms), so a wait is a bounded number of reads:
    about 30 over the default 5 s.
    """
    pending = {v.aggregate: v.version for v in wanted}
    deadline = time.monotonic() + (get_settings().min_version_wait_seconds if timeout is None else timeout)
    pause = FIRST_PAUSE
    while pending:
        have = versions(list(pending))
        pending = {agg: ver for agg, ver in pending.items() if have.get(agg, 0) < ver}
        if not pending:
            return
        if time.monotonic() + pause > deadline:
            raise NotReady(
                "The read side has not caught up with this write yet; retry shortly.", headers={"Retry-After": "1"}
            )
        time.sleep(pause)
        pause = min(MAX_PAUSE, pause * 2)
