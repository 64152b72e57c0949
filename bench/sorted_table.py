"""An in-process stand-in for the read cache's DynamoDB table with real index behaviour.

moto answers a GSI query by scanning every item of the table, so with moto an inbox page would
cost O(table) and the benchmark would measure moto. DynamoDB reads a partition's sort-key range
in O(log n + items read). This stand-in does the same with sorted lists and bisect, for the few
calls the read side makes (put_item, get_item, batch_get_item, query), and counts the requests
and items read, which are what DynamoDB bills and what its latency follows.
"""

from __future__ import annotations

import bisect
import re
import threading
import time
from collections import defaultdict
from typing import Any

Key = tuple[str, str]
PAGE_BYTES = 1024 * 1024  # a Query reads at most 1 MB of items, then answers with LastEvaluatedKey
_CONDITION = re.compile(
    r"^(?P<pk>\w+) = :pk(?: AND (?:begins_with\((?P<bw>\w+), :prefix\)|(?P<bt>\w+) BETWEEN :low AND :high))?$"
)


class SortedTable:
    """``latency``: seconds each read request waits, as a round trip to DynamoDB would (0: none),
    so that concurrent requests of one read overlap as they would deployed."""

    def __init__(self, latency: float = 0.0) -> None:
        self.items: dict[Key, dict[str, Any]] = {}
        self.sizes: dict[Key, int] = {}  # each item's size, taken when stored (a query only adds them up)
        self.index: dict[str, dict[str, list[tuple[str, str, str]]]] = defaultdict(lambda: defaultdict(list))
        self.requests = 0
        self.items_read = 0
        self.latency = latency
        self._counting = threading.Lock()  # readers may run on several threads

    def reset_counters(self) -> None:
        self.requests = self.items_read = 0

    def _count(self, items: int) -> None:
        with self._counting:
            self.requests += 1
            self.items_read += items
        if self.latency:
            time.sleep(self.latency)

    def put_item(self, TableName: str, Item: dict[str, Any], **_: Any) -> dict[str, Any]:  # noqa: N803
        """A version-conditional put (the projector's), as ``francium.cache.conditional_put`` asks."""
        old = self.items.get((Item["pk"]["S"], Item["sk"]["S"]))
        if old is not None and int(old["ver"]["N"]) >= int(Item["ver"]["N"]):
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": "ConditionalCheckFailedException"}}, "PutItem")
        self._store(Item)
        return {}

    def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803
        """Unconditional puts (a fan-out's copies), all processed."""
        for requests in RequestItems.values():
            for request in requests:
                self._store(request["PutRequest"]["Item"])
        return {"UnprocessedItems": {}}

    def _store(self, Item: dict[str, Any]) -> None:  # noqa: N803
        key = (Item["pk"]["S"], Item["sk"]["S"])
        old = self.items.get(key)
        if old is None:  # the table's own key: (pk, sk), never changes
            bisect.insort(self.index[""][key[0]], (key[1], *key))
        for name in ("gsi1", "gsi2"):
            if old is not None and f"{name}pk" in old:
                entries = self.index[name][old[f"{name}pk"]["S"]]
                entries.remove((old[f"{name}sk"]["S"], *key))
            if f"{name}pk" in Item:
                bisect.insort(self.index[name][Item[f"{name}pk"]["S"]], (Item[f"{name}sk"]["S"], *key))
        self.items[key] = Item
        self.sizes[key] = item_size(Item)

    def get_item(self, TableName: str, Key: dict[str, Any], **_: Any) -> dict[str, Any]:  # noqa: N803
        found = self.items.get((Key["pk"]["S"], Key["sk"]["S"]))
        self._count(found is not None)
        return {"Item": found} if found else {}

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803
        out: dict[str, list[dict[str, Any]]] = {}
        for table, spec in RequestItems.items():
            found = [self.items.get((k["pk"]["S"], k["sk"]["S"])) for k in spec["Keys"]]
            out[table] = [f for f in found if f is not None]
        self._count(sum(len(found) for found in out.values()))
        return {"Responses": out, "UnprocessedKeys": {}}

    def query(self, **request: Any) -> dict[str, Any]:
        match = _CONDITION.match(request["KeyConditionExpression"])
        if match is None:
            raise ValueError(f"unsupported query: {request['KeyConditionExpression']}")
        index = request.get("IndexName") or ""  # no index: the table's own (pk, sk)
        values = {k: v["S"] for k, v in request["ExpressionAttributeValues"].items()}
        entries = self.index[index].get(values[":pk"], [])
        low, high = ("", "\uffff")
        if match["bw"]:
            low, high = values[":prefix"], values[":prefix"] + "\uffff"
        elif match["bt"]:
            low, high = values[":low"], values[":high"] + "\x00"
        start = request.get("ExclusiveStartKey")
        forward = request.get("ScanIndexForward", True)
        lo, hi = bisect.bisect_left(entries, (low,)), bisect.bisect_left(entries, (high,))
        if start is not None:
            position = (start[f"{index}sk"]["S"], start["pk"]["S"], start["sk"]["S"])
            if forward:
                lo = max(lo, bisect.bisect_right(entries, position))
            else:
                hi = min(hi, bisect.bisect_left(entries, position))
        limit = request.get("Limit", max(0, hi - lo))
        positions = range(lo, min(hi, lo + limit)) if forward else range(hi - 1, max(lo, hi - limit) - 1, -1)
        picked: list[dict[str, Any]] = []
        read = 0
        for i in positions:
            key = entries[i][1:]
            if picked and read + self.sizes[key] > PAGE_BYTES:  # DynamoDB stops at 1 MB read
                last = picked[-1]
                self._count(len(picked))
                keys = tuple(dict.fromkeys(("pk", "sk", f"{index}pk", f"{index}sk")))
                page = {"Items": picked, "Count": len(picked), "ScannedCount": len(picked)}
                return page | {"LastEvaluatedKey": {k: last[k] for k in keys}}
            read += self.sizes[key]
            picked.append(self.items[key])
        self._count(len(picked))
        return {"Items": picked, "Count": len(picked), "ScannedCount": len(picked)}


def item_size(item: dict[str, Any]) -> int:
    """An item's size as DynamoDB counts it (attribute names and values, in bytes; close enough
    for the 1 MB a query reads)."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _value_size(value: dict[str, Any]) -> int:
    ((kind, inner),) = value.items()
    if kind in ("S", "B"):
        return len(inner.encode()) if isinstance(inner, str) else len(inner)
    if kind == "N":
        return len(str(inner)) // 2 + 1
    if kind == "M":
        return 3 + sum(len(k.encode()) + _value_size(v) for k, v in inner.items())
    if kind == "L":
        return 3 + sum(1 + _value_size(v) for v in inner)
    return 1
