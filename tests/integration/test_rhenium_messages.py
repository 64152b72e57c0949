"""Rhenium's messages through the real handlers: direct, platform broadcasts, reading, visibility."""

from __future__ import annotations

import psycopg

from tests.integration.social_support import deactivate, inbox_ids, person, read, rhenium
from tests.support.streams import StreamDriver

UNKNOWN = "7b0c7d4e-3a43-4e5e-9d1b-3f6e2a1c0b9a"


def send(stack: StreamDriver, sender, to, body: str = "hello", **kwargs):  # type: ignore[no-untyped-def]
    return rhenium(stack, "POST", "/v1/messages", sender, body={"to_entity": str(to.entity_id), "body": body}, **kwargs)


def test_a_direct_message_reaches_the_recipients_inbox_and_is_seen_by_both_ends_only(stack: StreamDriver) -> None:
    alice, bob, eve = person(stack), person(stack), person(stack)
    sent = send(stack, alice, bob, "hi bob")
    assert sent.status == 201
    assert sent.header("X-Write-Version")
    message = sent.body
    assert message["from"] == str(alice.entity_id)
    assert message["to"] == {"entity_id": str(bob.entity_id)}
    assert (message["body"], message["read"]) == ("hi bob", False)
    assert inbox_ids(bob) == [message["id"]]
    assert inbox_ids(alice) == []
    assert read(f"/v1/messages/{message['id']}", alice).body == message
    assert read(f"/v1/messages/{message['id']}", bob).body == message
    hidden = read(f"/v1/messages/{message['id']}", eve)
    assert (hidden.status, hidden.body["code"]) == (404, "not_found")
    assert read("/v1/messages/nope", bob).status == 404


def test_a_message_to_an_unknown_or_deactivated_entity_is_404_and_writes_nothing(
    stack: StreamDriver, postgres: str
) -> None:
    alice, gone = person(stack), person(stack)
    deactivate(stack, gone)
    body = {"to_entity": UNKNOWN, "body": "hi"}
    assert rhenium(stack, "POST", "/v1/messages", alice, body=body).status == 404
    assert send(stack, alice, gone).status == 404
    with psycopg.connect(postgres) as conn:
        assert conn.execute("SELECT count(*) FROM messages").fetchone() == (0,)


def test_invalid_message_bodies_are_400(stack: StreamDriver) -> None:
    alice, bob = person(stack), person(stack)
    for body in (
        {"to_entity": str(bob.entity_id), "body": ""},
        {"to_entity": str(bob.entity_id), "body": "x" * 4001},
        {"to_entity": "bob", "body": "hi"},
        {"body": "hi"},
        {"to_entity": str(bob.entity_id), "body": 3},
    ):
        answer = rhenium(stack, "POST", "/v1/messages", alice, body=body)
        assert (answer.status, answer.body["code"]) == (400, "invalid_request"), body
    assert send(stack, alice, bob, "x" * 4000).status == 201


def test_a_repeated_idempotency_key_returns_the_first_message_and_another_body_is_409(
    stack: StreamDriver, postgres: str
) -> None:
    alice, bob = person(stack), person(stack)
    first = send(stack, alice, bob, "once", headers={"Idempotency-Key": "k-1"})
    again = send(stack, alice, bob, "once", headers={"Idempotency-Key": "k-1"})
    assert (first.status, again.status) == (201, 201)
    assert again.body == first.body
    other = send(stack, alice, bob, "twice", headers={"Idempotency-Key": "k-1"})
    assert (other.status, other.body["code"]) == (409, "conflict")
    with psycopg.connect(postgres) as conn:
        assert conn.execute("SELECT count(*) FROM messages").fetchone() == (1,)


def test_platform_broadcasts_are_for_admins_and_reach_entities_registered_before_them(stack: StreamDriver) -> None:
    admin, early = person(stack, frozenset({"admin"})), person(stack)
    refused = rhenium(stack, "POST", "/v1/broadcasts", early, body={"body": "hear me"})
    assert (refused.status, refused.body["code"]) == (403, "forbidden")
    sent = rhenium(stack, "POST", "/v1/broadcasts", admin, body={"body": "maintenance at noon"})
    assert sent.status == 202
    assert (sent.body["to"], sent.body["from"]) == ({"all": True}, str(admin.entity_id))
    late = person(stack)
    assert inbox_ids(early) == [sent.body["id"]]
    assert inbox_ids(admin) == [sent.body["id"]]
    assert inbox_ids(late) == []
    assert read(f"/v1/messages/{sent.body['id']}", late).status == 404
    assert rhenium(stack, "POST", "/v1/broadcasts", admin, body={"body": ""}).status == 400


def test_marking_read_is_per_recipient_and_filters_the_unread_inbox(stack: StreamDriver) -> None:
    admin, bob, carol = person(stack, frozenset({"admin"})), person(stack), person(stack)
    direct = send(stack, admin, bob, "direct").body
    broadcast = rhenium(stack, "POST", "/v1/broadcasts", admin, body={"body": "to all"}).body
    marked = rhenium(stack, "POST", f"/v1/messages/{broadcast['id']}/read", bob)
    assert (marked.status, marked.body) == (204, None)
    assert marked.header("X-Write-Version")
    again = rhenium(stack, "POST", f"/v1/messages/{broadcast['id']}/read", bob)  # again: nothing changes
    assert (again.status, again.header("X-Write-Version")) == (204, marked.header("X-Write-Version"))
    assert inbox_ids(bob, unread="true") == [direct["id"]]
    assert inbox_ids(bob, unread="false") == [broadcast["id"]]
    assert inbox_ids(bob) == [broadcast["id"], direct["id"]]
    assert read(f"/v1/messages/{broadcast['id']}", bob).body["read"] is True
    assert read(f"/v1/messages/{broadcast['id']}", carol).body["read"] is False
    assert inbox_ids(carol, unread="true") == [broadcast["id"]]
    assert read("/v1/messages/inbox", bob, query={"unread": "maybe"}).status == 400


def test_marking_a_message_one_may_not_see_is_404(stack: StreamDriver) -> None:
    alice, bob, eve = person(stack), person(stack), person(stack)
    message = send(stack, alice, bob).body
    assert rhenium(stack, "POST", f"/v1/messages/{message['id']}/read", eve).status == 404
    assert rhenium(stack, "POST", f"/v1/messages/{UNKNOWN}/read", eve).status == 404
    assert rhenium(stack, "POST", "/v1/messages/garbage/read", eve).status == 404


def test_the_inbox_pages_newest_first_through_every_message_once(stack: StreamDriver) -> None:
    admin, bob = person(stack, frozenset({"admin"})), person(stack)
    sent = []
    for i in range(7):
        if i % 3 == 0:
            sent.append(rhenium(stack, "POST", "/v1/broadcasts", admin, body={"body": f"b{i}"}).body["id"])
        else:
            sent.append(send(stack, admin, bob, f"d{i}").body["id"])
    seen: list[str] = []
    cursor = None
    while True:
        page = read("/v1/messages/inbox", bob, query={"limit": "3", **({"cursor": cursor} if cursor else {})})
        assert page.status == 200
        assert len(page.body["items"]) <= 3
        seen += [m["id"] for m in page.body["items"]]
        cursor = page.body["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(sent))
    assert read("/v1/messages/inbox", bob, query={"cursor": "!!"}).status == 400
