"""Hybrid fan-out: a group broadcast is copied into its fanned members' inboxes from the change
feed, and read from the group's partition by the others, with the membership-time rule exact."""

from __future__ import annotations

from collections import Counter
from typing import Any
from uuid import UUID

import psycopg
import pytest

from fluorine.commands import rhenium as fluorine_rhenium
from francium import cache, maintenance, projector
from francium.cache import CacheItem
from shared import write_versions
from shared.aws import dynamodb
from shared.context import Caller
from shared.contracts.carbon import MemberState, member_aggregate
from shared.readcache import decode
from shared.settings import reset_settings
from tests.integration.social_support import add, carbon, carbon_unfanned, inbox_ids, new_group, person, read
from tests.integration.test_rhenium_unread import broadcast, mark_read, unread, unread_listed
from tests.support.streams import StreamDriver


@pytest.fixture
def limit(monkeypatch: pytest.MonkeyPatch) -> Any:
    def set_to(members: int) -> None:
        monkeypatch.setenv("FANOUT_LIMIT", str(members))
        reset_settings()

    yield set_to
    monkeypatch.delenv("FANOUT_LIMIT", raising=False)
    reset_settings()


def copies_of(message_id: str) -> Counter[str]:
    """The recipients of the message's copies in the read cache, each with how many it has."""
    found: Counter[str] = Counter()
    for item in scan_all():
        pk, sk = item["pk"]["S"], item["sk"]["S"]
        if pk.startswith(f"fanout#{message_id}:") and sk.startswith("copy#") and "data" in item:
            found[sk.removeprefix("copy#")] += 1
    return found


def scan_all() -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {"TableName": cache.table()}
    while True:
        answer = dynamodb().scan(**request)
        items += answer["Items"]
        if "LastEvaluatedKey" not in answer:
            return items
        request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


def group_of_five_in_batches_of_two(
    stack: StreamDriver, monkeypatch: pytest.MonkeyPatch
) -> tuple[Caller, list[Caller], str]:
    """A group of an owner and four members, whose fan-outs emit an event per two recipients."""
    monkeypatch.setattr(fluorine_rhenium, "FANOUT_BATCH", 2)
    owner, *members = (person(stack) for _ in range(5))
    group = new_group(stack, owner)["id"]
    for who in members:
        add(stack, group, owner, who)
    return owner, members, group


def fanned_members(url: str, group_id: str) -> tuple[int, int]:
    """The group's count of fanned members, and its open spans counted."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT fanned_members, (SELECT count(*) FROM fanout_spans s WHERE s.group_id = g.id AND s.left_at IS NULL)"
            " FROM groups g WHERE g.id = %s",
            (group_id,),
        ).fetchone()
    assert row is not None
    return row[0], row[1]


def fanned(group_id: str, who: Caller) -> bool:
    data = cache.get(member_aggregate(UUID(group_id), who.entity_id))
    assert data is not None
    return decode(MemberState, data).fanned


def test_a_group_that_grows_past_the_limit_copies_to_its_first_members_and_the_rest_read_it(
    stack: StreamDriver, limit: Any, postgres: str
) -> None:
    # Given a fan-out limit of two members, and a group that grows to three
    limit(2)
    owner, early, late = person(stack), person(stack), person(stack)
    group = new_group(stack, owner)["id"]
    add(stack, group, owner, early)
    add(stack, group, owner, late)
    assert [fanned(group, who) for who in (owner, early, late)] == [True, True, False]
    assert fanned_members(postgres, group) == (2, 2)

    # When the owner broadcasts
    message = broadcast(stack, group, owner, "hello")

    # Then the two first members hold a copy each, the third none, and all three see it once
    assert copies_of(message) == Counter({str(owner.entity_id): 1, str(early.entity_id): 1})
    for who in (owner, early, late):
        assert inbox_ids(who) == [message]
        assert unread(who) == 1 == len(unread_listed(who))
        assert read(f"/v1/messages/{message}", who).status == 200

    # And reading it counts for the copy's reader and the partition's reader alike
    mark_read(stack, early, message)
    mark_read(stack, late, message)
    assert (unread(early), unread(late), unread(owner)) == (0, 0, 1)
    assert unread_listed(early) == unread_listed(late) == []
    assert inbox_ids(early, unread="false") == inbox_ids(late, unread="false") == [message]

    # And when the group is deleted, its copies leave the inbox and the counts with it
    assert carbon(stack, "DELETE", f"/v1/groups/{group}", owner).status == 204
    for who in (owner, early, late):
        assert inbox_ids(who) == []
        assert unread(who) == 0
    assert read(f"/v1/messages/{message}", early).status == read(f"/v1/messages/{message}", late).status == 404


def test_joins_and_leaves_while_a_fan_out_is_in_flight_follow_the_moment_it_was_sent(
    stack: StreamDriver, postgres: str
) -> None:
    # Given a group of five, and a broadcast the trigger has not fanned out yet
    owner, stays, leaves, rejoins, joins = (person(stack) for _ in range(5))
    group = new_group(stack, owner)["id"]
    for who in (stays, leaves, rejoins):
        add(stack, group, owner, who)
    sent = carbon_unfanned(stack, "POST", f"/v1/groups/{group}/broadcast", owner, body={"body": "in flight"})
    message = sent.body["id"]

    # When, before the fan-out runs, one member leaves, one leaves and re-joins, one joins
    for who in (leaves, rejoins):
        removed = carbon_unfanned(stack, "DELETE", f"/v1/groups/{group}/members/{who.entity_id}", who)
        assert removed.status == 204
    for who in (rejoins, joins):
        body = {"entity_id": str(who.entity_id), "role": "member"}
        assert carbon_unfanned(stack, "POST", f"/v1/groups/{group}/members", owner, body=body).status == 201
    assert copies_of(message) == Counter()
    assert fanned_members(postgres, group) == (4, 4)  # owner, stays, rejoins (again), joins
    stack.settle()

    # Then exactly those who were members when it was sent hold it: the re-joined one too (its
    # current membership began after the message, its first one covered it)
    members_then = [owner, stays, leaves, rejoins]
    assert set(copies_of(message)) == {str(who.entity_id) for who in members_then}
    for who in members_then:
        assert inbox_ids(who) == [message]
        assert unread(who) == 1
        assert read(f"/v1/messages/{message}", who).status == 200
    assert inbox_ids(joins) == []
    assert unread(joins) == 0
    assert read(f"/v1/messages/{message}", joins).status == 404
    mark_read(stack, rejoins, message)
    assert unread(rejoins) == 0


def test_a_fan_out_retried_after_a_failure_mid_batch_writes_every_copy_once(
    stack: StreamDriver, postgres: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given fan-out events of two recipients each, and a read cache that fails once, mid-event
    owner, members, group = group_of_five_in_batches_of_two(stack, monkeypatch)
    message = carbon_unfanned(stack, "POST", f"/v1/groups/{group}/broadcast", owner, body={"body": "x"}).body["id"]
    real = projector.put_unconditionally
    failures = iter([True])

    def flaky(items: list[CacheItem]) -> int:
        if next(failures, False):
            real(items[:1])
            raise ConnectionError("the read cache went away mid-batch")
        return real(items)

    monkeypatch.setattr(projector, "put_unconditionally", flaky)

    # When the trigger fans it out, and is given the record again (a redelivery)
    trigger_reader = StreamDriver()
    records = trigger_reader.records()
    assert StreamDriver.trigger(records) == {"batchItemFailures": []}
    assert StreamDriver.trigger(records) == {"batchItemFailures": []}
    fanned_out = stack.records()
    answer = stack.deliver(fanned_out)

    # Then the failed event is reported, and its redelivery from there completes the fan-out
    failed = [f["itemIdentifier"] for f in answer["batchItemFailures"]]
    assert len(failed) == 1
    position = [r["dynamodb"]["SequenceNumber"] for r in fanned_out].index(failed[0])
    assert stack.deliver(fanned_out[position:]) == {"batchItemFailures": []}

    # And every member holds one copy; the outbox has three fan-out events, once
    assert copies_of(message) == Counter({str(who.entity_id): 1 for who in (owner, *members)})
    with psycopg.connect(postgres) as conn:
        events = conn.execute("SELECT aggregate FROM outbox WHERE event_type = 'BroadcastFannedOut'").fetchall()
        assert sorted(a for (a,) in events) == [f"fanout#{message}:{n}" for n in range(3)]
        assert conn.execute("SELECT recipients, batches FROM broadcast_fanouts").fetchall() == [(5, 3)]
    for who in (owner, *members):
        assert inbox_ids(who) == [message]
        assert unread(who) == 1


def test_drift_in_copies_is_reported_and_rebuilt(stack: StreamDriver) -> None:
    # Given a fanned-out broadcast, then one copy lost and another garbled
    owner, lost, garbled = person(stack), person(stack), person(stack)
    group = new_group(stack, owner)["id"]
    add(stack, group, owner, lost)
    add(stack, group, owner, garbled)
    message = broadcast(stack, group, owner)
    assert maintenance.verify()["count"] == 0
    key = f"fanout#{message}:0"
    dynamodb().delete_item(TableName=cache.table(), Key={"pk": {"S": key}, "sk": {"S": f"copy#{lost.entity_id}"}})
    dynamodb().update_item(
        TableName=cache.table(),
        Key={"pk": {"S": key}, "sk": {"S": f"copy#{garbled.entity_id}"}},
        UpdateExpression="SET #d = :d",
        ExpressionAttributeNames={"#d": "data"},
        ExpressionAttributeValues={":d": {"S": '{"id": "not a message"}'}},
    )
    assert inbox_ids(lost) == []

    # When verified, then both are reported at their keys
    found = maintenance.verify()
    assert {(d["pk"], d["sk"], d["kind"]) for d in found["drift"]} == {
        (key, f"copy#{lost.entity_id}", "missing"),
        (key, f"copy#{garbled.entity_id}", "mismatch"),
    }

    # And a rebuild puts both back
    assert maintenance.rebuild()["rewritten"] == 2
    assert maintenance.verify()["count"] == 0
    assert inbox_ids(lost) == inbox_ids(garbled) == [message]


def test_a_broadcast_whose_record_the_trigger_lost_is_fanned_out_by_a_rebuild_once(
    stack: StreamDriver, postgres: str
) -> None:
    # Given a broadcast the read side saw but the trigger never did
    owner, member = person(stack), person(stack)
    group = new_group(stack, owner)["id"]
    add(stack, group, owner, member)
    message = carbon_unfanned(stack, "POST", f"/v1/groups/{group}/broadcast", owner, body={"body": "x"}).body["id"]
    assert inbox_ids(member) == []

    # When verified and rebuilt
    found = maintenance.verify()
    assert found["by_kind"] == {"derived_missing": 1}
    assert found["drift"][0]["pk"] == f"fanout#{message}:0"
    rebuilt = maintenance.rebuild()

    # Then it is fanned out, readable with no projector run, and a second rebuild does nothing
    assert rebuilt["rederived"] == 1
    assert inbox_ids(member) == [message]
    assert maintenance.verify()["count"] == 0
    assert maintenance.rebuild()["rederived"] == 0
    with psycopg.connect(postgres) as conn:
        assert conn.execute("SELECT count(*) FROM outbox WHERE event_type = 'BroadcastFannedOut'").fetchone() == (1,)


def test_a_broadcasts_write_version_names_its_fan_out_and_a_read_with_it_waits_for_every_copy(
    stack: StreamDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given fan-out events of two recipients each, and a group of five
    owner, members, group = group_of_five_in_batches_of_two(stack, monkeypatch)

    # When the owner broadcasts, and only the message reaches the read side
    sent = carbon_unfanned(stack, "POST", f"/v1/groups/{group}/broadcast", owner, body={"body": "x"})
    message, token = sent.body["id"], sent.header("X-Write-Version")
    assert token is not None

    # Then its write version names the message and the three fan-out events to come
    _, named = write_versions.read(token)
    assert sorted(v.aggregate for v in named) == sorted(
        [f"message#{message}", *(f"fanout#{message}:{n}" for n in range(3))]
    )

    # And a read with it is not ready until the fan-out is projected, then sees every copy
    monkeypatch.setenv("MIN_VERSION_WAIT_SECONDS", "0.05")
    reset_settings()
    waiting = read("/v1/messages/inbox", owner, headers={"X-Min-Version": token})
    assert (waiting.status, waiting.body["code"]) == (503, "not_ready")
    stack.settle()
    assert read("/v1/messages/inbox", owner, headers={"X-Min-Version": token}).status == 200
    assert all(inbox_ids(who) == [message] for who in members)


def test_a_broadcast_to_a_group_without_fanned_members_names_no_fan_out(stack: StreamDriver, limit: Any) -> None:
    # Given a limit of zero: no membership is fanned
    limit(0)
    owner, member = person(stack), person(stack)
    group = new_group(stack, owner)["id"]
    add(stack, group, owner, member)

    # When the owner broadcasts
    sent = carbon(stack, "POST", f"/v1/groups/{group}/broadcast", owner, body={"body": "x"})

    # Then its write version names the message only, nothing is copied, and both read it
    _, named = write_versions.read(sent.header("X-Write-Version") or "")
    assert [v.aggregate for v in named] == [f"message#{sent.body['id']}"]
    assert copies_of(sent.body["id"]) == Counter()
    assert inbox_ids(owner) == inbox_ids(member) == [sent.body["id"]]


def test_a_read_and_a_deletion_before_a_fan_out_leave_every_count_exact(stack: StreamDriver) -> None:
    """A member may mark a broadcast read by its id before its copy arrives, and a group may be
    deleted before its last broadcast is fanned out: the unread counts, which the fan-out, the read
    mark and the deletion all move, still agree with the lists."""
    owner, early, other = person(stack), person(stack), person(stack)
    group = new_group(stack, owner)["id"]
    for who in (early, other):
        add(stack, group, owner, who)
    first = carbon_unfanned(stack, "POST", f"/v1/groups/{group}/broadcast", owner, body={"body": "one"}).body["id"]
    mark_read(stack, early, first)  # before its fan-out: nothing of its copy is counted yet
    stack.settle()
    assert [unread(who) for who in (owner, early, other)] == [1, 0, 1]
    assert [len(unread_listed(who)) for who in (owner, early, other)] == [1, 0, 1]
    second = carbon_unfanned(stack, "POST", f"/v1/groups/{group}/broadcast", owner, body={"body": "two"})
    assert second.status == 202
    assert carbon_unfanned(stack, "DELETE", f"/v1/groups/{group}", owner).status == 204
    stack.settle()  # the second broadcast is fanned out after its group was deleted
    assert set(copies_of(second.body["id"])) == {str(who.entity_id) for who in (owner, early, other)}
    for who in (owner, early, other):
        assert unread(who) == 0 == len(unread_listed(who))
    assert maintenance.verify()["count"] == 0
