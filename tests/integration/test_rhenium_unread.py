"""Unread counts: exactly the messages ``inbox?unread=true`` lists, through every change of the inbox."""

from __future__ import annotations

import random

from francium import maintenance
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
    assert unread(bob) == 1
    # Read marks are re-projected with their index, so a rebuild from the truth counts the same
    stack.dynamodb.delete_item(
        TableName="ReadCacheTable", Key={"pk": {"S": f"read#{read_one}:{bob.entity_id}"}, "sk": {"S": "state"}}
    )
    assert unread(bob) == 2
    assert maintenance.verify()["by_kind"] == {"missing": 1}
    maintenance.rebuild()
    assert unread(bob) == 1
