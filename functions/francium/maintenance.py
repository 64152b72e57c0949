"""Verify and rebuild what the change feed derives against the truth: the read cache, and the
derived writes of event consumers (``python -m francium.maintenance verify|rebuild``; locally
``make verify`` / ``make rebuild``).

The truth is the latest committed event of each aggregate, asked from Fluorine page by page
(``LatestEvents``): Francium never reads Fluorine's store. ``verify`` reports drift as JSON with a
count; ``rebuild`` repairs it. First the derived writes: the committed events whose consumer's write
is missing (``MissingDerivedWrites``) are handed to that consumer again (``francium.derived``), and
the unread counts Fluorine keeps that a recount disagrees with are set to it (``RecountUnread``: a
count moved by code that did not keep it, such as the old code still running while migration 0026
deployed). Then the cache: items newer than the truth, with other data, or accounted for by no aggregate are
deleted (only if still at the version seen), and the latest events are re-applied through the
projections (version-conditional, so a live projector racing it never regresses), the derived
writes just made included.

Deployed, the same runs as FranciumMaintenanceFunction: ``{"action": "verify"|"rebuild", "aggregate"?}``.
Readers also call it, over the typed internal contract, to ``repair`` the few aggregates whose
items they found lost or unreadable (``RepairAggregates``, see ``shared.repair``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError
from pydantic import ValidationError

from francium import cache, derived
from francium.drift import Drift, Key, cache_keys, drifts, expected_items
from shared import snapstart
from shared.aws import dynamodb, prime_dynamodb
from shared.contracts.changes import ChangeRecord
from shared.contracts.maintenance import (
    LatestEvents,
    LatestEventsPage,
    MissingDerivedWrite,
    RecountedPage,
    RecountUnread,
    RepairAggregates,
    Repaired,
    WrongCount,
)
from shared.contracts.rhenium import unread_aggregate
from shared.errors import AppError, InternalError, InvalidRequest
from shared.internal import InternalRequest, call, failure_response, prime_invoke
from shared.observability import invocation, logger

REPORTED = 1000  # drift entries listed in a report (the count covers them all)
WRONG = frozenset({"newer", "mismatch", "orphan"})


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


def scan_derived(aggregate: str | None) -> tuple[list[MissingDerivedWrite], int]:
    """Every committed event whose derived write is missing, and how many deriving events were checked."""
    found: list[MissingDerivedWrite] = []
    checked = 0
    for page in derived.missing(aggregate):
        checked += page.checked
        found += page.missing
    return found, checked


def derived_drift(found: list[MissingDerivedWrite]) -> list[tuple[ChangeRecord | None, Drift]]:
    return [(None, Drift("derived_missing", m.derived, cache.STATE, None, None, m.event.aggregate)) for m in found]


def recount(aggregate: str | None, *, fix: bool) -> list[WrongCount]:
    """Every unread count Fluorine keeps that a recount of PostgreSQL disagrees with (a full run
    only: ``aggregate`` limits a run to one aggregate's events); ``fix`` sets and publishes them."""
    if aggregate is not None:
        return []
    wrong: list[WrongCount] = []
    after = None
    while True:
        page = call("fluorine", RecountUnread(after=after, fix=fix), RecountedPage).result
        wrong += page.wrong
        if page.next_after is None:
            return wrong
        after = page.next_after


def count_drift(wrong: list[WrongCount]) -> list[tuple[ChangeRecord | None, Drift]]:
    """Not the cache's drift but PostgreSQL's own: an unread count its messages and reads disagree with."""
    return [(None, Drift("count_wrong", unread_aggregate(w.entity_id), "-", w.recounted, w.kept)) for w in wrong]


def report(
    found: list[tuple[ChangeRecord | None, Drift]],
    checked: int,
    missing: list[MissingDerivedWrite],
    events: int,
    wrong: list[WrongCount] | None = None,
) -> dict[str, Any]:
    everything = [*derived_drift(missing), *count_drift(wrong or []), *found]
    return {
        "aggregates_checked": checked,
        "derived_events_checked": events,
        "count": len(everything),
        "by_kind": dict(Counter(d.kind for _, d in everything)),
        "drift": [d.as_dict() for _, d in everything[:REPORTED]],
    }


def verify(aggregate: str | None = None, context: Any = None) -> dict[str, Any]:
    return report(*scan(aggregate), *scan_derived(aggregate), recount(aggregate, fix=False))


def delete_if_unchanged(drift: Drift) -> None:
    """Delete a drifted item if it is still as it was read (an unreadable version: still unreadable)."""
    if drift.cached_version is None:
        condition = {
            "ConditionExpression": "NOT attribute_type(ver, :n)",
            "ExpressionAttributeValues": {":n": {"S": "N"}},
        }
    else:
        condition = {
            "ConditionExpression": "ver = :ver",
            "ExpressionAttributeValues": {":ver": {"N": str(drift.cached_version)}},
        }
    try:
        dynamodb().delete_item(TableName=cache.table(), Key={"pk": {"S": drift.pk}, "sk": {"S": drift.sk}}, **condition)
    except ClientError as exc:  # changed since it was read: the projector got there; leave it
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise


def repair_cache(found: list[tuple[ChangeRecord | None, Drift]], *, exclusive: bool = False) -> int:
    """Re-apply the latest events of the drifted aggregates and delete what no event explains; how
    many items were written (``exclusive``: see ``rebuild``).

    A wrong item that the latest event rewrites is replaced in one conditional write (never deleted
    first), so a reader racing the repair sees the old item or the new one, never a 404.
    """
    records = {r.aggregate: r for r, _ in found if r is not None}.values()
    items = [item for record in records for item in expected_items(record)]
    rewrites = {(i.pk, i.sk) for i in items}
    replacing: dict[tuple[str, str], int] = {}
    for _, drift in found:
        if drift.kind not in WRONG:
            continue
        if (drift.pk, drift.sk) in rewrites and drift.cached_version is not None:
            replacing[(drift.pk, drift.sk)] = drift.cached_version
        elif (drift.pk, drift.sk) not in rewrites:
            delete_if_unchanged(drift)
    absent = {(d.pk, d.sk) for _, d in found if d.kind == "missing"} if exclusive else set()
    rewritten = cache.put_absent([i for i in items if (i.pk, i.sk) in absent])
    return rewritten + sum(
        cache.put_if_newer(i, replacing=replacing.get((i.pk, i.sk))) for i in items if (i.pk, i.sk) not in absent
    )


def repair(command: RepairAggregates) -> Repaired:
    """Re-project a reader's few lost or unreadable aggregates (no full scan, no derived writes)."""
    found: list[tuple[ChangeRecord | None, Drift]] = []
    unknown = []
    for aggregate in command.aggregates:
        drifted, checked = scan(aggregate)
        found += drifted
        if checked == 0:
            unknown.append(aggregate)
    rewritten = repair_cache(found)
    logger.warning("read cache repaired", extra={"drift": len(found), "rewritten": rewritten, "unknown": unknown})
    return Repaired(rewritten=rewritten, unknown=unknown)


def _internal(event: dict[str, Any]) -> dict[str, Any]:
    """A typed internal call (``RepairAggregates``), answered as ``shared.internal`` expects."""
    try:
        command = RepairAggregates.model_validate(InternalRequest.model_validate(event).command)
    except ValidationError:
        return failure_response(InvalidRequest("not a repair_aggregates request"))
    try:
        return {"ok": True, "result": repair(command).model_dump(mode="json")}
    except AppError as error:
        return failure_response(error)
    except Exception:
        logger.exception("repair failed")
        return failure_response(InternalError())


def rebuild(aggregate: str | None = None, context: Any = None, exclusive: bool = False) -> dict[str, Any]:
    """Re-derive the missing derived writes, then repair every drifted cache item; the drift found
    before, how many derived writes were re-derived (and which events' consumer failed again), and
    how many cache items were rewritten.

    ``exclusive``: no projector writes the cache meanwhile (the local stack's catch-up, before its
    stream mappings start), so missing items are written in batches, without conditions.
    """
    missing, events = scan_derived(aggregate)
    failed = derived.redrive(missing, context)
    wrong = recount(aggregate, fix=True)  # before the scan: it finds the fixed counts' events
    found, checked = scan(aggregate)
    if aggregate is not None:  # the derived writes just made are other aggregates: bring them in too
        for made in {m.derived for m in missing if m.event.aggregate not in failed}:
            more, count = scan(made)
            found, checked = found + more, checked + count
    rewritten = repair_cache(found, exclusive=exclusive)
    rederived = len(missing) - len(failed)
    logger.info("rebuilt", extra={"drift": len(found), "rewritten": rewritten, "rederived": rederived})
    return {
        **report(found, checked, missing, events, wrong),
        "rederived": rederived,
        "rederive_failed": failed[:REPORTED],
        "rewritten": rewritten,
    }


ACTIONS = {"verify": verify, "rebuild": rebuild}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """``{"action": "verify" | "rebuild", "aggregate"?: "<type>#<id>"}``; the local stack's catch-up
    adds ``"exclusive": true`` to a rebuild (see ``rebuild``). An internal request (``"command"``)
    is a reader's ``RepairAggregates``."""
    invocation(context, (event.get("context") or {}).get("request_id") if isinstance(event, dict) else None)
    if "command" in event:
        return _internal(event)
    action, aggregate, exclusive = event.get("action"), event.get("aggregate"), event.get("exclusive", False)
    valid = isinstance(action, str) and action in ACTIONS and (aggregate is None or isinstance(aggregate, str))
    if not valid or not isinstance(action, str) or exclusive not in (False, action == "rebuild"):
        raise InvalidRequest('Expected {"action": "verify" | "rebuild", "aggregate"?: "<type>#<id>"}.')
    done = rebuild(aggregate, context, exclusive=True) if exclusive else ACTIONS[action](aggregate, context)
    return {"action": action, **done}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m francium.maintenance", description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=sorted(ACTIONS))
    parser.add_argument("--aggregate", help="only this aggregate key, e.g. entity#<uuid>")
    args = parser.parse_args(argv)
    result = ACTIONS[args.action](args.aggregate)
    print(json.dumps(result, indent=2))
    return exit_status(args.action, result)


def exit_status(action: str, result: dict[str, Any]) -> int:
    """1 when ``verify`` found drift or ``rebuild`` could not re-derive a derived write, else 0."""
    if action == "rebuild":
        return 1 if result["rederive_failed"] else 0
    return 0 if result["count"] == 0 else 1


@snapstart.prime()
def prime() -> None:
    """Every action reads the read cache, the views' projections and Fluorine's committed events."""
    from francium.views import load_all

    prime_dynamodb()
    prime_invoke(LatestEventsPage)
    load_all()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
