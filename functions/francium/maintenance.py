"""Verify and rebuild the read cache against the truth: ``python -m francium.maintenance verify|rebuild``.

The truth is the latest committed event of each aggregate, asked from Fluorine page by page
(``LatestEvents``): Francium never reads Fluorine's store. ``verify`` reports drift as JSON with a
count; ``rebuild`` repairs it: items newer than the truth, with other data, or accounted for by no
aggregate are deleted (only if still at the version seen), then the latest events are re-applied
through the projections (version-conditional, so a live projector racing it never regresses).

Deployed, the same runs as FranciumMaintenanceFunction: ``{"action": "verify"|"rebuild", "aggregate"?}``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from francium import cache
from francium.drift import Drift, Key, cache_keys, drifts, expected_items
from shared.aws import dynamodb
from shared.contracts.changes import ChangeRecord
from shared.contracts.maintenance import LatestEvents, LatestEventsPage
from shared.errors import InvalidRequest
from shared.internal import call
from shared.observability import logger

REPORTED = 1000  # drift entries listed in a report (the count covers them all)
DELETE_FIRST = frozenset({"newer", "mismatch", "orphan"})


def truth(aggregate: str | None = None) -> Iterator[list[ChangeRecord]]:
    """Pages of the latest event of every aggregate (or of ``aggregate`` only), in key order."""
    after: str | None = None
    while True:
        page = call("fluorine", LatestEvents(after=after, aggregate=aggregate), LatestEventsPage).result
        if page.records:
            yield page.records
        if page.next_after is None:
            return
        after = page.next_after


def scan(aggregate: str | None) -> tuple[list[tuple[ChangeRecord | None, Drift]], int]:
    """Every drift (with the event to rebuild from) and how many aggregates were checked."""
    found: list[tuple[ChangeRecord | None, Drift]] = []
    expected: set[Key] = set()
    checked = 0
    for records in truth(aggregate):
        checked += len(records)
        found += list(drifts(records))
        if aggregate is None:
            expected |= {(i.pk, i.sk) for r in records for i in expected_items(r)}
    if aggregate is None:
        found += [
            (None, Drift("orphan", pk, sk, None, ver)) for (pk, sk), ver in cache_keys() if (pk, sk) not in expected
        ]
    return found, checked


def report(found: list[tuple[ChangeRecord | None, Drift]], checked: int) -> dict[str, Any]:
    return {
        "aggregates_checked": checked,
        "count": len(found),
        "by_kind": dict(Counter(d.kind for _, d in found)),
        "drift": [d.as_dict() for _, d in found[:REPORTED]],
    }


def verify(aggregate: str | None = None) -> dict[str, Any]:
    return report(*scan(aggregate))


def delete_if_unchanged(drift: Drift) -> None:
    try:
        dynamodb().delete_item(
            TableName=cache.table(),
            Key={"pk": {"S": drift.pk}, "sk": {"S": drift.sk}},
            ConditionExpression="ver = :ver",
            ExpressionAttributeValues={":ver": {"N": str(drift.cached_version)}},
        )
    except ClientError as exc:  # changed since it was read: the projector got there; leave it
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise


def rebuild(aggregate: str | None = None) -> dict[str, Any]:
    """Repair every drifted item; the drift found before, and how many items were rewritten."""
    found, checked = scan(aggregate)
    for _, drift in found:
        if drift.kind in DELETE_FIRST:
            delete_if_unchanged(drift)
    rewritten = 0
    for record in {r.aggregate: r for r, _ in found if r is not None}.values():
        rewritten += sum(cache.put_if_newer(item) for item in expected_items(record))
    logger.info("read cache rebuilt", extra={"drift": len(found), "rewritten": rewritten})
    return {**report(found, checked), "rewritten": rewritten}


ACTIONS = {"verify": verify, "rebuild": rebuild}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    action = ACTIONS.get(str(event.get("action")))
    aggregate = event.get("aggregate")
    if action is None or (aggregate is not None and not isinstance(aggregate, str)):
        raise InvalidRequest('Expected {"action": "verify" | "rebuild", "aggregate"?: "<type>#<id>"}.')
    return {"action": event["action"], **action(aggregate)}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m francium.maintenance", description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=sorted(ACTIONS))
    parser.add_argument("--aggregate", help="only this aggregate key, e.g. entity#<uuid>")
    args = parser.parse_args(argv)
    result = ACTIONS[args.action](args.aggregate)
    print(json.dumps(result, indent=2))
    return 0 if args.action == "rebuild" or result["count"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
