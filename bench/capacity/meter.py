"""Counting what one user action costs the services under it, as DynamoDB and PostgreSQL bill it.

``Meter`` counts every DynamoDB call of this process, from any thread and any client, whenever
the client was made (it wraps botocore's ``BaseClient._make_api_call``: a client copies its
session's event handlers when it is made, so listening on a session's events missed the clients a
thread pool kept from before, such as Rhenium's push threads), and every statement psycopg sends.
A thread can send its calls to one meter of its own instead (``metered_into``). For each
DynamoDB request it records the table, the index, the operation, the partition key it addressed
(by family: ``entity#…`` → ``entity``) and the request units it would be billed on demand,
computed from the items' sizes as DynamoDB sizes them (names plus values; reads in 4 KB units,
halved when eventually consistent; writes in 1 KB units). Lambda invocations are counted by the
caller (one per API request, one per internal call).
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

READ_UNIT = 4096
WRITE_UNIT = 1024
_ID = re.compile(r"#.*$")


def item_size(item: dict[str, Any]) -> int:
    """An item's size as DynamoDB counts it, near enough: attribute names plus their values."""
    total = 0
    for name, value in item.items():
        total += len(name.encode())
        (kind, raw), *_ = value.items()
        if kind in ("S", "N", "B"):
            total += len(str(raw).encode())
        elif kind == "BOOL" or kind == "NULL":
            total += 1
        else:
            total += len(json.dumps(raw).encode())
    return total


def family(key: str) -> str:
    """A partition key's family: ``inbox#<id>`` → ``inbox``; keys without an id stay as they are."""
    return _ID.sub("", key) or key


@dataclass
class DynamoRequest:
    table: str
    index: str | None
    operation: str
    families: tuple[str, ...]
    read_units: float = 0.0
    write_units: float = 0.0
    items: int = 0


@dataclass
class Meter:
    dynamo: list[DynamoRequest] = field(default_factory=list)
    statements: int = 0
    lambda_invocations: Counter[str] = field(default_factory=Counter)

    def summary(self) -> dict[str, Any]:
        by_table: dict[str, dict[str, float]] = {}
        by_family: dict[str, dict[str, float]] = {}
        for r in self.dynamo:
            table = by_table.setdefault(r.table, {"requests": 0, "items": 0, "read_units": 0.0, "write_units": 0.0})
            table["requests"] += 1
            table["items"] += r.items
            table["read_units"] += r.read_units
            table["write_units"] += r.write_units
            for name in r.families:
                where = f"{r.table}{'/' + r.index if r.index else ''}:{name}"
                fam = by_family.setdefault(where, {"requests": 0, "read_units": 0.0, "write_units": 0.0})
                fam["requests"] += 1 / len(r.families)
                fam["read_units"] += r.read_units / len(r.families)
                fam["write_units"] += r.write_units / len(r.families)
        return {
            "sql_statements": self.statements,
            "lambda_invocations": dict(self.lambda_invocations),
            "dynamodb": {k: _rounded(v) for k, v in sorted(by_table.items())},
            "dynamodb_partitions": {k: _rounded(v) for k, v in sorted(by_family.items())},
        }


def _rounded(values: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 3) for k, v in values.items()}


def _read_units(sizes: list[int], consistent: bool, per_item: bool) -> float:
    factor = 1.0 if consistent else 0.5
    if per_item:
        return sum(max(1, math.ceil(s / READ_UNIT)) * factor for s in sizes)
    return max(1, math.ceil(sum(sizes) / READ_UNIT)) * factor


def _keys_of(params: dict[str, Any]) -> list[str]:
    """The partition keys a request addresses (its Key/Item pk, or its key condition's value)."""
    found: list[str] = []
    for key in [params.get("Key"), params.get("Item")]:
        if key:
            found.append(next(iter(key.values()))["S"] if "pk" not in key else key["pk"]["S"])
    if "KeyConditionExpression" in params:
        values = params.get("ExpressionAttributeValues", {})
        first = next((v for k, v in sorted(values.items()) if k in (":pk", ":k", ":p")), None)
        if first is None and values:
            first = next(iter(values.values()))
        if first is not None:
            found.append(next(iter(first.values())))
    for table_request in (params.get("RequestItems") or {}).values():
        if isinstance(table_request, dict):
            found += [k["pk"]["S"] for k in table_request.get("Keys", []) if "pk" in k]
        else:
            for write in table_request:
                body = write.get("PutRequest", {}).get("Item") or write.get("DeleteRequest", {}).get("Key") or {}
                if "pk" in body:
                    found.append(body["pk"]["S"])
    return found


class _Listener:
    def __init__(self, meter: Meter) -> None:
        self.meter = meter

    def after(self, http_response: Any, parsed: dict[str, Any], model: Any, **kwargs: Any) -> None:
        params = kwargs.get("context", {}).get("meter_params") or {}
        operation = model.name
        table = params.get("TableName") or next(iter(params.get("RequestItems") or {"?": 0}))
        request = DynamoRequest(
            table=str(table),
            index=params.get("IndexName"),
            operation=operation,
            families=tuple(sorted({family(k) for k in _keys_of(params)})) or ("(scan)",),
        )
        consistent = bool(params.get("ConsistentRead"))
        if operation == "GetItem":
            sizes = [item_size(parsed["Item"])] if parsed.get("Item") else [0]
            request.read_units, request.items = _read_units(sizes, consistent, True), len(sizes)
        elif operation in ("Query", "Scan"):
            sizes = [item_size(i) for i in parsed.get("Items", [])] or [0]
            request.read_units, request.items = _read_units(sizes, consistent, False), len(parsed.get("Items", []))
        elif operation == "BatchGetItem":
            items = [i for found in parsed.get("Responses", {}).values() for i in found]
            specs = (params.get("RequestItems") or {}).values()
            consistent = any(spec.get("ConsistentRead") for spec in specs)
            asked = sum(len(spec.get("Keys", [])) for spec in specs)
            # Each key is billed as a GetItem, so a key with no item still costs the smallest read.
            sizes = [item_size(i) for i in items] + [0] * max(0, asked - len(items))
            request.read_units, request.items = _read_units(sizes, consistent, True), len(items)
        elif operation in ("PutItem", "UpdateItem", "DeleteItem"):
            size = item_size(params.get("Item") or params.get("Key") or {})
            request.write_units, request.items = max(1, math.ceil(size / WRITE_UNIT)), 1
        elif operation == "BatchWriteItem":
            writes = [w for batch in (params.get("RequestItems") or {}).values() for w in batch]
            sizes = [
                item_size(w.get("PutRequest", {}).get("Item") or w.get("DeleteRequest", {}).get("Key") or {})
                for w in writes
            ]
            request.write_units, request.items = sum(max(1, math.ceil(s / WRITE_UNIT)) for s in sizes), len(writes)
        elif operation == "TransactWriteItems":
            request.write_units = 2 * len(params.get("TransactItems", []))
        self.meter.dynamo.append(request)


_ALL = object()  # a thread bound to no meter of its own: its calls go to every meter listening
_listening: list[_Listener] = []
_thread = threading.local()  # ``meter``: where this thread's calls go (``metered_into``)
_users = 0  # meters listening and threads bound: the wrapper is in place while there are any
_lock = threading.Lock()
_original: list[Any] = []  # botocore's own ``BaseClient._make_api_call``, while wrapped


def _counted_call(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
    """``BaseClient._make_api_call``, with each DynamoDB call (answered or refused) counted."""
    from botocore.exceptions import ClientError

    call = _original[0]
    if client.meta.service_model.service_name != "dynamodb":
        return call(client, operation_name, api_params)
    params = dict(api_params)  # the API's parameters, before serialization
    try:
        parsed = call(client, operation_name, api_params)
    except ClientError as error:  # a refused write (a failed condition) is billed too
        _record(operation_name, params, error.response)
        raise
    _record(operation_name, params, parsed)
    return parsed


def _record(operation_name: str, params: dict[str, Any], parsed: dict[str, Any]) -> None:
    own = getattr(_thread, "meter", _ALL)
    listeners = list(_listening) if own is _ALL else [_Listener(own)] if isinstance(own, Meter) else []
    for listener in listeners:
        listener.after(None, parsed, SimpleNamespace(name=operation_name), context={"meter_params": params})


def _use() -> None:
    global _users
    from botocore.client import BaseClient

    with _lock:
        if _users == 0:
            _original.append(BaseClient._make_api_call)
            BaseClient._make_api_call = _counted_call  # type: ignore[method-assign]
        _users += 1


def _release() -> None:
    global _users
    from botocore.client import BaseClient

    with _lock:
        _users -= 1
        if _users == 0:
            BaseClient._make_api_call = _original.pop()  # type: ignore[method-assign]


@contextmanager
def metered_into(meter: Meter | None) -> Iterator[None]:
    """This thread's DynamoDB calls go to ``meter`` only (``None``: to no meter) while inside, whether
    or not a meter is listening (a background thread whose work belongs to a later meter)."""
    _use()
    before = getattr(_thread, "meter", _ALL)
    _thread.meter = meter
    try:
        yield
    finally:
        _thread.meter = before
        _release()


@contextmanager
def metering(meter: Meter | None = None) -> Iterator[Meter]:
    """Count every DynamoDB request and PostgreSQL statement of this process while inside (into
    ``meter`` if given, a new one otherwise)."""
    import psycopg

    meter = meter if meter is not None else Meter()
    listener = _Listener(meter)
    _use()
    _listening.append(listener)
    original = psycopg.Cursor.execute

    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        meter.statements += 1
        return original(self, *args, **kwargs)

    psycopg.Cursor.execute = counted  # type: ignore[method-assign]
    try:
        yield meter
    finally:
        psycopg.Cursor.execute = original  # type: ignore[method-assign]
        _listening.remove(listener)
        _release()
