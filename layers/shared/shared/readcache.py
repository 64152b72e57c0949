"""Reading the read cache (Francium's DynamoDB table): what the shared plumbing needs of it.

Francium's projector is the only writer. The authorizer reads the token holder's entity and login
session here, and read-your-writes waits here for aggregates to reach a version; Francium's views
build on the same primitives (``francium.cache``). Everything read here is a hint, never proof:
writes are authorized by Fluorine on PostgreSQL (see docs/architecture.md, "Trust boundaries").
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any
from uuid import UUID

from shared import write_versions
from shared.aws import dynamodb
from shared.contracts.changes import AggregateVersion
from shared.contracts.oxygen import EntityState, entity_aggregate
from shared.contracts.oxygen_auth import SessionState, session_aggregate
from shared.errors import NotReady
from shared.settings import get_settings

STATE = "state"
BATCH_GET_MAX = 100  # DynamoDB's BatchGetItem limit
FIRST_PAUSE = 0.01
MAX_PAUSE = 0.2


def table() -> str:
    return get_settings().read_cache_table


def item_data(item: dict[str, Any] | None) -> dict[str, Any] | None:
    """The live data of a raw item, or None if absent or a tombstone."""
    if not item or "deleted" in item or "data" not in item:
        return None
    return json.loads(item["data"]["S"])  # type: ignore[no-any-return]


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


def batch_get(keys: list[tuple[str, str]], *, consistent: bool = False) -> dict[tuple[str, str], dict[str, Any]]:
    """Live data for many (pk, sk) keys in as few round trips as DynamoDB allows."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for item in batch_items(keys, consistent=consistent):
        data = item_data(item)
        if data is not None:
            found[(item["pk"]["S"], item["sk"]["S"])] = data
    return found


def versions(pks: list[str]) -> dict[str, int]:
    """The projected version of each aggregate (its state item's ``ver``), strongly consistent."""
    keys = [(pk, STATE) for pk in pks]
    return {i["pk"]["S"]: int(i["ver"]["N"]) for i in batch_items(keys, consistent=True, projection="pk, ver")}


def token_holder(entity_id: UUID, session_id: UUID) -> tuple[EntityState | None, SessionState | None]:
    """The entity and the login session of an access token, in one strongly consistent round trip
    (a logout or a deactivation that answered must be seen by the very next request)."""
    keys = [(entity_aggregate(entity_id), STATE), (session_aggregate(session_id), STATE)]
    found = batch_get(keys, consistent=True)
    entity, session = found.get(keys[0]), found.get(keys[1])
    return (
        EntityState.model_validate(entity) if entity else None,
        SessionState.model_validate(session) if session else None,
    )


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
