"""Unread counts: exactly the messages ``inbox?unread=true`` lists, through every change of the inbox."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import psycopg
import pytest

from fluorine import db
from francium import cache, maintenance
from shared.context import Caller
from tests.integration.graphql_support import graphql
from tests.integration.social_support import add, carbon, new_group, person, read, rhenium
from tests.support.streams import StreamDriver

ADMIN = frozenset({"admin"})


def unread(who: Caller) -> int:
    answer = read("/v1/messages/unread-count", who)
    assert answer.status == 200, answer.body
    assert set(answer.body) == {"unread"}
    return answer.body["unread"]  # type: ignore[no-any-return]


def unread_listed(who: Caller) -> list[str]:
    """Every message ``inbox?unread=true`` lists, over all its pages (small pages, to cross them)."""
    ids: list[str] = []
    query = {"unread": "true", "limit": "2"}
    while True:
        answer = read("/v1/messages/inbox", who, query=query)
        assert answer.status == 200, answer.body
        ids += [m["id"] for m in answer.body["items"]]
        if not answer.body["next_cursor"]:
            return ids
        query = {**query, "cursor": answer.body["next_cursor"]}


def send(stack: StreamDriver, sender: Caller, to: Caller, body: str = "hi") -> str:
    answer = rhenium(stack, "POST", "/v1/messages", sender, body={"to_entity": str(to.entity_id), "body": body})
    assert answer.status == 201, answer.body
    return answer.body["id"]  # type: ignore[no-any-return]


def mark_read(stack: StreamDriver, who: Caller, message_id: str) -> None:
    answer = rhenium(stack, "POST", f"/v1/messages/{message_id}/read", who)
    assert answer.status == 204, answer.body


def broadcast(stack: StreamDriver, group_id: str, who: Caller, body: str = "news") -> str:
    answer = carbon(stack, "POST", f"/v1/groups/{group_id}/broadcast", who, body={"body": body})
    assert answer.status == 202, answer.body
    return answer.body["id"]  # type: ignore[no-any-return]


def platform_broadcast(stack: StreamDriver, admin: Caller, body: str = "to all") -> str:
    answer = rhenium(stack, "POST", "/v1/broadcasts", admin, body={"body": body})
    assert answer.status == 202, answer.body
    return answer.body["id"]  # type: ignore[no-any-return]


def test_direct_messages_count_until_read_and_reading_twice_counts_once(stack: StreamDriver) -> None:
    alice, bob = person(stack), person(stack)
    assert unread(bob) == 0
    first, second = send(stack, alice, bob), send(stack, alice, bob)
    assert unread(bob) == 2
    assert unread(alice) == 0  # what one sends is not in one's inbox
    mark_read(stack, bob, first)
    mark_read(stack, bob, first)
    assert unread(bob) == 1
    assert unread_listed(bob) == [second]
    # The sender may mark its own message read: the recipient's count does not move
    mark_read(stack, alice, second)
    assert unread(bob) == 1
    assert unread(alice) == 0


def test_group_broadcasts_count_inside_the_membership_window_and_leave_with_a_deleted_group(
    stack: StreamDriver,
) -> None:
    owner, late = person(stack), person(stack)
    group = new_group(stack, owner)
    broadcast(stack, group["id"], owner, "before joining")
    assert carbon(stack, "POST", f"/v1/groups/{group['id']}/join", late).status == 201
    during = broadcast(stack, group["id"], owner, "while a member")
    assert unread(late) == 1
    assert carbon(stack, "DELETE", f"/v1/groups/{group['id']}/members/{late.entity_id}", late).status == 204
    broadcast(stack, group["id"], owner, "after leaving")
    assert unread(late) == 1  # what was sent while a member stays, what came after does not count
    assert unread(owner) == 3  # the sender is a member: its own broadcasts are in its inbox
    mark_read(stack, late, during)
    assert unread(late) == 0
    assert carbon(stack, "DELETE", f"/v1/groups/{group['id']}", owner).status == 204
    assert unread(owner) == 0 == len(unread_listed(owner))


def without_registration(who: Caller) -> Caller:
    """The same caller, as one whose registration time did not come with it (read from its entity)."""
    return who.model_copy(update={"registered_at": None})


def test_the_count_is_the_same_whether_the_registration_comes_with_the_caller_or_is_read(stack: StreamDriver) -> None:
    admin, reader, owner = person(stack, roles=ADMIN), person(stack), person(stack)
    platform_broadcast(stack, admin)
    group = new_group(stack, owner)
    assert add(stack, group["id"], owner, reader).status == 201
    broadcast(stack, group["id"], owner)
    send(stack, owner, reader)
    late = person(stack)  # registered after the platform broadcast: not in its inbox
    for who in (reader, late):
        listed = unread_listed(who)
        assert unread(who) == unread(without_registration(who)) == len(listed) == (3 if who is reader else 0)
        assert unread_listed(without_registration(who)) == listed


def test_deleting_a_group_withdraws_the_copies_of_every_member_who_held_them(
    stack: StreamDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("fluorine.commands.carbon.FANOUT_BATCH", 2)  # several withdrawal events
    owner, gone, stays, third = person(stack), person(stack), person(stack), person(stack)
    group, other = new_group(stack, owner), new_group(stack, owner, name="Sailors")
    for who in (gone, stays, third):
        assert add(stack, group["id"], owner, who).status == 201
    assert add(stack, other["id"], owner, stays).status == 201
    broadcast(stack, group["id"], owner)
    broadcast(stack, group["id"], owner)
    assert carbon(stack, "DELETE", f"/v1/groups/{group['id']}/members/{gone.entity_id}", gone).status == 204
    kept = broadcast(stack, other["id"], owner)
    assert [unread(who) for who in (gone, stays, third)] == [2, 3, 2]
    # When the owner deletes the group
    assert carbon(stack, "DELETE", f"/v1/groups/{group['id']}", owner).status == 204
    # Then its copies leave every holder's count, a past member's too, and the other group's stay
    for who in (owner, gone, stays, third):
        assert unread(who) == len(unread_listed(who)) == unread(without_registration(who))
    assert unread_listed(stays) == [kept]
    with db.connection().cursor() as cur:
        events = cur.execute("SELECT count(*) FROM outbox WHERE aggregate LIKE %s", (f"withdrawal#{group['id']}:%",))
        assert events.fetchone() == (2,)  # four holders' counts moved, two per event
    assert maintenance.verify()["count"] == 0
    # And with its count lost from the read cache, a holder's partition is counted instead: the
    # deleted group's copies, still in it, are left out
    versions = stack.dynamodb.query(
        TableName="ReadCacheTable",
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"unread#{stays.entity_id}"}},
    )["Items"]
    assert versions
    for item in versions:
        stack.dynamodb.delete_item(TableName="ReadCacheTable", Key={"pk": item["pk"], "sk": item["sk"]})
    assert unread(stays) == 1 == len(unread_listed(stays))


def test_an_authorized_reader_s_count_reads_its_count_not_its_inbox_memberships_or_entity(
    stack: StreamDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One round, of a size that depends on neither the reader's groups nor its inbox."""
    owner, reader = person(stack), person(stack)
    for name in ("a", "b", "c"):
        group = new_group(stack, owner, name=name)
        assert add(stack, group["id"], owner, reader).status == 201
        broadcast(stack, group["id"], owner)
    send(stack, owner, reader)
    queried: list[str] = []
    counted: list[str] = []
    got: list[str] = []
    query_page, count_range, get, batch_get = cache.query_page, cache.count_range, cache.get, cache.batch_get

    def spy(into: list[str], call: Any) -> Any:
        return lambda first, *a, **kw: into.append(first) or call(first, *a, **kw)

    monkeypatch.setattr(cache, "query_page", spy(queried, query_page))
    monkeypatch.setattr(cache, "count_range", spy(counted, count_range))
    monkeypatch.setattr(cache, "get", spy(got, get))
    monkeypatch.setattr(
        cache, "batch_get", lambda keys, *a, **kw: got.extend(k[0] for k in keys) or batch_get(keys, *a, **kw)
    )
    assert unread(reader) == 4
    assert sorted(queried) == [f"read_time_of#{reader.entity_id}", f"unread#{reader.entity_id}"]
    assert got == []
    assert sorted(counted) == ["pbox", f"reads#{reader.entity_id}@pbox"]


def test_platform_broadcasts_count_for_entities_that_existed_when_they_were_sent(stack: StreamDriver) -> None:
    admin = person(stack, roles=ADMIN)
    early = person(stack)
    before_late = unread(early)
    sent = platform_broadcast(stack, admin)
    late = person(stack)
    assert unread(early) == before_late + 1
    assert sent not in unread_listed(late)
    assert unread(late) == len(unread_listed(late))
    mark_read(stack, early, sent)
    assert unread(early) == before_late


def test_the_count_follows_the_unread_list_through_random_histories(stack: StreamDriver) -> None:
    """After every step of a random history of sends, broadcasts, joins, leaves and read marks, each
    reader's count is the length of its unread list (all pages), and verify finds no drift."""
    rng = random.Random(20261202)
    owner = person(stack)
    readers = [person(stack) for _ in range(3)]
    group = new_group(stack, owner)
    members: set[int] = set()
    seen: dict[int, list[str]] = {i: [] for i in range(len(readers))}
    for _ in range(30):
        who = rng.randrange(len(readers))
        step = rng.choice(["send", "send", "broadcast", "join", "leave", "read", "read"])
        if step == "send":
            send(stack, owner, readers[who])
        elif step == "broadcast":
            broadcast(stack, group["id"], owner)
        elif step == "join" and who not in members:
            add(stack, group["id"], owner, readers[who])
            members.add(who)
        elif step == "leave" and who in members:
            path = f"/v1/groups/{group['id']}/members/{readers[who].entity_id}"
            assert carbon(stack, "DELETE", path, readers[who]).status == 204
            members.discard(who)
        elif step == "read":
            listed = unread_listed(readers[who])
            if listed:
                mark_read(stack, readers[who], rng.choice(listed))
        for i, reader in enumerate(readers):
            listed = unread_listed(reader)
            seen[i] = listed
            assert unread(reader) == len(listed), (step, i)
    assert any(seen.values())  # the history left something unread to count
    assert maintenance.verify()["count"] == 0


def test_the_migration_counts_what_the_commands_counted(stack: StreamDriver) -> None:
    """Migration 0026 counts every entity's unread messages from what is there: the same counts
    the commands keep, through direct messages, copies, reads before and after a fan-out, leaving
    and a group's deletion."""
    owner, alice, bob = person(stack), person(stack), person(stack)
    group, other = new_group(stack, owner), new_group(stack, owner, name="Sailors")
    for who in (alice, bob):
        assert add(stack, group["id"], owner, who).status == 201
        assert add(stack, other["id"], owner, who).status == 201
    first = broadcast(stack, group["id"], owner)
    mark_read(stack, alice, first)
    broadcast(stack, other["id"], owner)
    mark_read(stack, bob, send(stack, owner, bob))
    send(stack, alice, bob)
    assert carbon(stack, "DELETE", f"/v1/groups/{other['id']}/members/{alice.entity_id}", alice).status == 204
    broadcast(stack, group["id"], owner)
    assert carbon(stack, "DELETE", f"/v1/groups/{other['id']}", owner).status == 204
    migration = Path(__file__).parents[2] / "schema" / "migrations" / "0026_inbox_counts.sql"
    with db.connection().cursor() as cur:
        kept = dict(cur.execute("SELECT entity_id, unread FROM inbox_counts").fetchall())
        cur.execute("DELETE FROM outbox WHERE aggregate LIKE 'unread#%%'")
        cur.execute("DROP TABLE inbox_counts")
        cur.execute(migration.read_text())
        recounted = dict(cur.execute("SELECT entity_id, unread FROM inbox_counts WHERE unread <> 0").fetchall())
        events = cur.execute("SELECT count(*) FROM outbox WHERE aggregate LIKE 'unread#%%'").fetchone()
    db.connection().rollback()
    assert recounted == {e: n for e, n in kept.items() if n != 0}
    assert recounted[bob.entity_id] == unread(bob) == 3  # two broadcasts of the group and alice's message
    assert recounted[alice.entity_id] == unread(alice) == 1
    assert events is not None
    assert events[0] >= 3


def test_a_count_moved_by_code_that_did_not_keep_it_is_found_and_fixed(stack: StreamDriver, postgres: str) -> None:
    """As when the old code still ran while migration 0026 deployed: a message written without
    moving its recipient's count. ``verify`` reports the count, ``rebuild`` sets it to a recount."""
    alice, bob = person(stack), person(stack)
    send(stack, alice, bob)
    send(stack, alice, bob)
    with psycopg.connect(postgres, autocommit=True) as conn:
        conn.execute("UPDATE inbox_counts SET unread = unread - 1 WHERE entity_id = %s", (bob.entity_id,))
    report = maintenance.verify()
    assert report["by_kind"] == {"count_wrong": 1}
    assert report["drift"][0]["pk"] == f"unread#{bob.entity_id}"
    rebuilt = maintenance.rebuild()
    assert rebuilt["by_kind"] == {"count_wrong": 1, "missing": 1}  # the fixed count's event, projected by it
    assert maintenance.verify()["count"] == 0
    assert unread(bob) == 2 == len(unread_listed(bob))
    assert unread(alice) == 0


def test_graphql_unread_count_is_the_rest_count(stack: StreamDriver) -> None:
    alice, bob = person(stack), person(stack)
    first = send(stack, alice, bob)
    send(stack, alice, bob)
    mark_read(stack, bob, first)
    answer = graphql(bob, "{ unreadCount inbox(first: 10, unread: true) { edges { node { id } } } }")
    assert "errors" not in answer.body, answer.body
    assert answer.body["data"]["unreadCount"] == 1 == unread(bob)
    assert len(answer.body["data"]["inbox"]["edges"]) == 1


def test_a_rebuilt_read_cache_counts_the_same(stack: StreamDriver) -> None:
    alice, bob = person(stack), person(stack)
    read_one = send(stack, alice, bob)
    send(stack, alice, bob)
    mark_read(stack, bob, read_one)
    assert unread(bob) == 1 == len(unread_listed(bob))
    # A lost read mark: the list shows the message unread again, the count (kept apart) does not
    stack.dynamodb.delete_item(
        TableName="ReadCacheTable", Key={"pk": {"S": f"read#{read_one}:{bob.entity_id}"}, "sk": {"S": "state"}}
    )
    assert unread(bob) == 1
    assert len(unread_listed(bob)) == 2
    assert maintenance.verify()["by_kind"] == {"missing": 1}
    maintenance.rebuild()
    assert unread(bob) == 1 == len(unread_listed(bob))
    # An unreadable count: the partition is counted instead, as exact, and a rebuild rewrites it
    newest = {"pk": {"S": f"unread#{bob.entity_id}"}, "sk": {"S": f"v#{3:010d}"}}
    stack.dynamodb.update_item(
        TableName="ReadCacheTable",
        Key=newest,
        UpdateExpression="SET #d = :x",
        ExpressionAttributeNames={"#d": "data"},
        ExpressionAttributeValues={":x": {"S": "{not json"}},
    )
    assert unread(bob) == 1
    assert maintenance.verify()["by_kind"] == {"mismatch": 1}
    maintenance.rebuild()
    # A lost count: the partition is counted instead, as exact; a rebuild puts the count back
    versions = [f"v#{n:010d}" for n in (1, 2, 3)]  # two messages, then a read
    for version in versions:
        key = {"pk": {"S": f"unread#{bob.entity_id}"}, "sk": {"S": version}}
        stack.dynamodb.delete_item(TableName="ReadCacheTable", Key=key)
    assert unread(bob) == 1
    assert maintenance.verify()["by_kind"] == {"missing": 3}
    maintenance.rebuild()
    assert maintenance.verify()["count"] == 0
    assert unread(bob) == 1
