"""verify/rebuild of the read cache against the latest committed events (through Fluorine)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from francium import cache, drift, maintenance
from francium.cache import CacheItem
from shared.aws import dynamodb
from shared.contracts.maintenance import LatestEvents, LatestEventsPage
from shared.errors import InvalidRequest
from shared.internal import call
from tests.integration.nickel_support import issue, new_asset, pay
from tests.integration.social_support import add, carbon, deactivate, new_group, person, read, rhenium
from tests.support.events import FakeContext
from tests.support.streams import StreamDriver


def corrupt(pk: str, **changes: Any) -> None:
    """Overwrite a cache item behind the projections' back."""
    item = dynamodb().get_item(TableName=cache.table(), Key={"pk": {"S": pk}, "sk": {"S": cache.STATE}})["Item"]
    if "data" in changes:
        item["data"] = {"S": json.dumps(changes["data"])}
    if "ver" in changes:
        item["ver"] = {"N": str(changes["ver"])}
    dynamodb().put_item(TableName=cache.table(), Item=item)


def test_latest_events_pages_through_every_aggregate_once_at_its_latest_version(stack: StreamDriver) -> None:
    # Given five entities, one of them changed twice more
    people = [person(stack) for _ in range(5)]
    group = new_group(stack, people[0])
    add(stack, group["id"], people[0], people[1])

    # When Fluorine is asked two aggregates at a time
    seen: list[tuple[str, int]] = []
    after = None
    while True:
        page = call("fluorine", LatestEvents(after=after, limit=2), LatestEventsPage).result
        seen += [(r.aggregate, r.version) for r in page.records]
        if page.next_after is None:
            break
        after = page.next_after

    # Then every aggregate appears once, in key order, at its latest version
    aggregates = [a for a, _ in seen]
    assert aggregates == sorted(set(aggregates))
    assert dict(seen)[f"group#{group['id']}"] == 2  # created, then its member count changed


def test_verify_reports_each_kind_of_drift_and_rebuild_repairs_them_all(stack: StreamDriver) -> None:
    # Given a consistent cache, then four people's items corrupted in four ways and an orphan item
    a, b, c, d = (person(stack) for _ in range(4))
    assert maintenance.verify()["count"] == 0
    dynamodb().delete_item(TableName=cache.table(), Key={"pk": {"S": f"entity#{a.entity_id}"}, "sk": {"S": "state"}})
    corrupt(f"entity#{b.entity_id}", ver=7)
    corrupt(f"entity#{c.entity_id}", data={"id": str(c.entity_id), "display_name": "Mallory"})
    corrupt(f"entity#{d.entity_id}", ver=0)
    cache.put_if_newer(CacheItem("entity#00000000-0000-4000-8000-000000000000", cache.STATE, 3, {"x": 1}))

    # When verified
    found = maintenance.verify()

    # Then each is reported with its kind, and counted
    assert found["count"] == 5
    assert found["by_kind"] == {"missing": 1, "newer": 1, "mismatch": 1, "stale": 1, "orphan": 1}
    kinds = {d["pk"]: d["kind"] for d in found["drift"]}
    assert kinds[f"entity#{b.entity_id}"] == "newer"
    assert kinds[f"entity#{c.entity_id}"] == "mismatch"

    # And after a rebuild there is no drift, and the reads are right again
    assert maintenance.rebuild()["rewritten"] == 4
    assert maintenance.verify()["count"] == 0
    assert read("/v1/entities/me", c).body["id"] == str(c.entity_id)


def test_verify_and_rebuild_of_one_aggregate_touch_only_it(stack: StreamDriver) -> None:
    # Given two people whose cached names were both tampered with
    a, b = person(stack), person(stack)
    for who in (a, b):
        corrupt(f"entity#{who.entity_id}", data={"id": str(who.entity_id)})

    # When only a's aggregate is rebuilt
    one = maintenance.verify(f"entity#{a.entity_id}")
    maintenance.rebuild(f"entity#{a.entity_id}")

    # Then a is repaired and b is still reported
    assert (one["aggregates_checked"], one["count"]) == (1, 1)
    assert maintenance.verify(f"entity#{a.entity_id}")["count"] == 0
    assert maintenance.verify(f"entity#{b.entity_id}")["count"] == 1


def test_a_realistic_flow_through_the_real_handlers_leaves_zero_drift(stack: StreamDriver) -> None:
    # Given people, a private group with members, role changes, a leave, messages, reads, a deleted group
    owner, admin, member, leaver, gone = (person(stack) for _ in range(5))
    group = new_group(stack, owner, "private")
    for who, role in ((admin, "admin"), (member, "member"), (leaver, "member"), (gone, "member")):
        assert add(stack, group["id"], owner, who, role).status == 201
    assert carbon(stack, "DELETE", f"/v1/groups/{group['id']}/members/{leaver.entity_id}", leaver).status == 204
    assert carbon(stack, "POST", f"/v1/groups/{group['id']}/broadcast", admin, body={"body": "hello"}).status == 202
    sent = rhenium(stack, "POST", "/v1/messages", member, body={"to_entity": str(owner.entity_id), "body": "hi"})
    assert rhenium(stack, "POST", f"/v1/messages/{sent.body['id']}/read", owner).status == 204
    doomed = new_group(stack, member, name="Short lived")
    assert carbon(stack, "DELETE", f"/v1/groups/{doomed['id']}", member).status == 204
    new_asset(stack, person(stack, frozenset({"admin"})), "USD")
    assert issue(stack, person(stack, frozenset({"admin"})), owner, 500).status == 201
    assert pay(stack, owner, member, 120, memo="rent").status == 201
    deactivate(stack, gone)
    stack.settle()  # the feed's other consumer too: the transfers' recipients get their system messages

    # When the read cache and the derived writes are verified against the truth
    found = maintenance.verify()

    # Then there is no drift at all
    assert (found["count"], found["drift"]) == (0, [])
    assert found["aggregates_checked"] >= 18  # entities, group, members, messages, read, asset, wallets, transfers
    assert found["derived_events_checked"] == 3  # the issue, the payment and the group broadcast


def test_the_lambda_handler_and_the_command_line_run_verify_and_rebuild(
    stack: StreamDriver, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given one person whose cached item is stale
    who = person(stack)
    corrupt(f"entity#{who.entity_id}", ver=0)

    # When verify runs from the command line, rebuild from the handler, then verify again
    assert maintenance.main(["verify"]) == 1
    printed = json.loads(capsys.readouterr().out)
    rebuilt = maintenance.handler({"action": "rebuild"}, FakeContext())
    after = maintenance.handler({"action": "verify", "aggregate": f"entity#{who.entity_id}"}, FakeContext())

    # Then the drift was reported, repaired, and is gone
    assert printed["by_kind"] == {"stale": 1}
    assert (rebuilt["action"], rebuilt["rewritten"]) == ("rebuild", 1)
    assert (after["action"], after["count"]) == ("verify", 0)
    assert maintenance.main(["verify"]) == 0
    with pytest.raises(InvalidRequest):
        maintenance.handler({"action": "drop_everything"}, FakeContext())


def test_an_exclusive_rebuild_batches_what_is_missing_and_repairs_the_rest_conditionally(stack: StreamDriver) -> None:
    # Given a flow whose cache lost everything but one stale and one tampered item
    a, b = person(stack), person(stack)
    group = new_group(stack, a)
    assert add(stack, group["id"], a, b).status == 201
    keep = {f"entity#{a.entity_id}", f"entity#{b.entity_id}"}
    for (pk, sk), _ in list(drift.cache_keys()):
        if pk not in keep:
            dynamodb().delete_item(TableName=cache.table(), Key={"pk": {"S": pk}, "sk": {"S": sk}})
    corrupt(f"entity#{a.entity_id}", ver=0)
    corrupt(f"entity#{b.entity_id}", data={"id": str(b.entity_id)})
    before = maintenance.verify()

    # When the local stack's catch-up rebuilds it (no projector running)
    rebuilt = maintenance.handler({"action": "rebuild", "exclusive": True}, FakeContext())

    # Then every missing item and both drifted ones are written, and nothing drifts
    assert before["by_kind"]["stale"] == 1
    assert before["by_kind"]["mismatch"] == 1
    assert rebuilt["rewritten"] == before["count"]
    assert maintenance.verify()["count"] == 0
    assert read(f"/v1/groups/{group['id']}/members", b).status == 200


def test_only_a_rebuild_may_be_exclusive(stack: StreamDriver) -> None:
    for event in (
        {"action": "verify", "exclusive": True},
        {"action": "rebuild", "exclusive": "yes"},
        {"action": ["x"]},
    ):
        with pytest.raises(InvalidRequest):
            maintenance.handler(event, FakeContext())
