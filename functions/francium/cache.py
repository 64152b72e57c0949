"""The read cache (a DynamoDB table): items per aggregate, written only by projections.

Every item carries ``ver``, the version of the aggregate it was projected from; a write lands
only if it is newer than what is there, so duplicate or reordered change records never regress
a view. The aggregate's ``state`` item is also its version marker for ``X-Min-Version``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from shared.aws import dynamodb
from shared.settings import get_settings

STATE = "state"


@dataclass(frozen=True)
class CacheItem:
    pk: str
    sk: str
    ver: int
    data: dict[str, Any] | None  # None: a tombstone (the thing was deleted at ``ver``)
    indexes: dict[str, str] = field(default_factory=dict)  # e.g. {"gsi1pk": ..., "gsi1sk": ...}


def table() -> str:
    return get_settings().read_cache_table


def put_if_newer(item: CacheItem) -> bool:
    """Write ``item`` unless the cache already holds that key at the same or a newer version."""
    attrs: dict[str, Any] = {"pk": {"S": item.pk}, "sk": {"S": item.sk}, "ver": {"N": str(item.ver)}}
    if item.data is None:
        attrs["deleted"] = {"BOOL": True}
    else:
        attrs["data"] = {"S": json.dumps(item.data, separators=(",", ":"))}
        attrs.update({name: {"S": value} for name, value in item.indexes.items()})
    try:
        dynamodb().put_item(
            TableName=table(),
            Item=attrs,
            ConditionExpression="attribute_not_exists(ver) OR ver < :ver",
            ExpressionAttributeValues={":ver": {"N": str(item.ver)}},
        )
        return True
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise


def _data(item: dict[str, Any] | None) -> dict[str, Any] | None:
    if not item or "deleted" in item or "data" not in item:
        return None
    return json.loads(item["data"]["S"])  # type: ignore[no-any-return]


def get(pk: str, sk: str = STATE, *, consistent: bool = False) -> dict[str, Any] | None:
    """The live data at (pk, sk), or None if absent or deleted."""
    answer = dynamodb().get_item(TableName=table(), Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=consistent)
    return _data(answer.get("Item"))


def versions(pks: list[str]) -> dict[str, int]:
    """The projected version of each aggregate (its state item's ``ver``), strongly consistent."""
    found: dict[str, int] = {}
    keys = [{"pk": {"S": pk}, "sk": {"S": STATE}} for pk in dict.fromkeys(pks)]
    for start in range(0, len(keys), 100):
        request = {
            table(): {"Keys": keys[start : start + 100], "ConsistentRead": True, "ProjectionExpression": "pk, ver"}
        }
        while request:
            answer = dynamodb().batch_get_item(RequestItems=request)
            for item in answer["Responses"].get(table(), []):
                found[item["pk"]["S"]] = int(item["ver"]["N"])
            request = answer.get("UnprocessedKeys") or {}
    return found


def query_index(index: str, key: str, *, limit: int = 20) -> list[dict[str, Any]]:
    """Live items whose ``<index>pk`` is ``key`` (eventually consistent)."""
    answer = dynamodb().query(
        TableName=table(),
        IndexName=index,
        KeyConditionExpression=f"{index}pk = :k",
        ExpressionAttributeValues={":k": {"S": key}},
        Limit=limit,
    )
    return [d for d in (_data(i) for i in answer.get("Items", [])) if d is not None]
