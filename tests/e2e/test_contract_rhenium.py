"""Rhenium against the contract over HTTP: direct messages, the inbox and its unread filter,
read marks, visibility of a message, and platform broadcasts."""

from __future__ import annotations

import uuid

import httpx

from tests.e2e.contract_support import (
    admin_headers,
    assert_problem,
    assert_written,
    fresh,
    inbox,
    inbox_with,
    key,
    register,
    settled,
)

MESSAGE_FIELDS = {"id", "from", "to", "body", "sent_at", "read"}


def test_a_direct_message_is_validated_replayed_per_key_and_seen_only_by_its_parties(client: httpx.Client) -> None:
    alice, bob, eve = register(client), register(client), register(client)
    for bad in (
        {"to_entity": bob.id, "body": ""},
        {"to_entity": bob.id, "body": "b" * 4001},
        {"to_entity": "not-a-uuid", "body": "x"},
        {"to_entity": bob.id},
        {"to_entity": bob.id, "body": 42},
    ):
        assert_problem(client.post("/v1/messages", json=bad, headers=alice.headers), 400, "invalid_request")
    unknown = {"to_entity": str(uuid.uuid4()), "body": "hello?"}
    assert_problem(client.post("/v1/messages", json=unknown, headers=alice.headers), 404, "not_found")
    body = {"to_entity": bob.id, "body": "b" * 3999 + "é"}
    idem = key()
    sent = client.post("/v1/messages", json=body, headers={**alice.headers, **idem})
    assert_written(sent, 201)
    message = sent.json()
    assert set(message) == MESSAGE_FIELDS
    assert (message["from"], message["to"], message["read"]) == (alice.id, {"entity_id": bob.id}, False)
    replay = client.post("/v1/messages", json=body, headers={**alice.headers, **idem})
    assert (replay.status_code, replay.json()) == (201, message)
    clash = client.post("/v1/messages", json={**body, "body": "other"}, headers={**alice.headers, **idem})
    assert_problem(clash, 409, "conflict")
    settled(client, alice.headers, sent)
    items = client.get("/v1/messages/inbox", headers=bob.headers).json()["items"]
    assert [m["id"] for m in items] == [message["id"]]
    for reader in (alice, bob):
        seen = client.get(f"/v1/messages/{message['id']}", headers=reader.headers)
        assert (seen.status_code, seen.json()["body"]) == (200, body["body"])
    assert_problem(client.get(f"/v1/messages/{message['id']}", headers=eve.headers), 404, "not_found")
    assert_problem(client.post(f"/v1/messages/{message['id']}/read", headers=eve.headers), 404, "not_found")
    for unknown_id in (str(uuid.uuid4()), "not-a-uuid"):
        assert_problem(client.get(f"/v1/messages/{unknown_id}", headers=bob.headers), 404, "not_found")
        assert_problem(client.post(f"/v1/messages/{unknown_id}/read", headers=bob.headers), 404, "not_found")


def test_the_inbox_is_newest_first_paginated_and_filters_on_read_marks(client: httpx.Client) -> None:
    alice, bob = register(client), register(client)
    ids = []
    for n in range(3):
        sent = client.post("/v1/messages", json={"to_entity": bob.id, "body": f"note {n}"}, headers=alice.headers)
        assert_written(sent, 201)
        ids.append(sent.json()["id"])
    settled(client, alice.headers, sent)
    first = client.get("/v1/messages/inbox", params={"limit": 2}, headers=bob.headers).json()
    second = client.get("/v1/messages/inbox", params={"cursor": first["next_cursor"]}, headers=bob.headers).json()
    assert [m["id"] for m in first["items"] + second["items"]] == ids[::-1]
    assert second["next_cursor"] is None
    assert_problem(
        client.get("/v1/messages/inbox", params={"unread": "maybe"}, headers=bob.headers), 400, "invalid_request"
    )
    read = client.post(f"/v1/messages/{ids[1]}/read", headers=bob.headers)
    assert_written(read, 204)
    assert read.content == b""
    unread = client.get("/v1/messages/inbox", params={"unread": "true"}, headers=fresh(bob.headers, read)).json()
    assert [m["id"] for m in unread["items"]] == [ids[2], ids[0]]
    done = client.get("/v1/messages/inbox", params={"unread": "false"}, headers=fresh(bob.headers, read)).json()
    assert ids[1] in [m["id"] for m in done["items"]]
    assert all(m["read"] for m in done["items"])
    again = client.post(f"/v1/messages/{ids[1]}/read", headers=bob.headers)
    assert_written(again, 204)
    assert client.get(f"/v1/messages/{ids[1]}", headers=fresh(bob.headers, again)).json()["read"] is True


def test_a_platform_broadcast_is_admin_only_and_reaches_every_active_entity(client: httpx.Client) -> None:
    admin = admin_headers(client)
    alice, bob = register(client), register(client)
    text = f"maintenance {uuid.uuid4().hex[:8]}"
    assert_problem(client.post("/v1/broadcasts", json={"body": text}, headers=alice.headers), 403, "forbidden")
    assert_problem(client.post("/v1/broadcasts", json={"body": ""}, headers=admin), 400, "invalid_request")
    sent = client.post("/v1/broadcasts", json={"body": text}, headers=admin)
    assert_written(sent, 202)
    for actor in (alice, bob):
        found = next(m for m in inbox_with(client, actor, text) if m["body"] == text)
        assert (found["to"], found["read"]) == ({"all": True}, False)
    marked = client.post(f"/v1/messages/{found['id']}/read", headers=bob.headers)
    assert_written(marked, 204)
    bob_unread = client.get("/v1/messages/inbox", params={"unread": "true"}, headers=fresh(bob.headers, marked)).json()
    assert found["id"] not in [m["id"] for m in bob_unread["items"]]
    alice_unread = client.get("/v1/messages/inbox", params={"unread": "true"}, headers=alice.headers).json()
    assert found["id"] in [m["id"] for m in alice_unread["items"]]


def test_the_unread_count_is_what_the_unread_inbox_lists_and_follows_read_marks_at_once(client: httpx.Client) -> None:
    alice, bob = register(client), register(client)
    assert_problem(client.get("/v1/messages/unread-count"), 401, "unauthorized")
    sent = []
    for n in range(3):
        answer = client.post("/v1/messages", json={"to_entity": bob.id, "body": f"count me {n}"}, headers=alice.headers)
        assert_written(answer, 201)
        sent.append(answer)
    settled(client, alice.headers, sent[-1])
    count = client.get("/v1/messages/unread-count", headers=bob.headers)
    assert count.status_code == 200, count.text
    assert count.json() == {"unread": len(inbox(client, bob, unread="true", limit=100))}
    before = count.json()["unread"]
    assert before >= 3
    # Marking one read: the count read with the mark's version reflects it at once
    marked = client.post(f"/v1/messages/{sent[0].json()['id']}/read", headers=bob.headers)
    assert_written(marked, 204)
    after = client.get("/v1/messages/unread-count", headers=fresh(bob.headers, marked))
    assert after.json() == {"unread": before - 1}
    assert after.json()["unread"] == len(inbox(client, bob, unread="true", limit=100))
    # And GraphQL answers the same count
    query = {"query": "{ unreadCount }"}
    assert client.post("/v1/graphql", json=query, headers=bob.headers).json() == {"data": {"unreadCount": before - 1}}


def test_a_group_broadcast_is_in_every_members_inbox_and_unread_count_once_its_writer_reads_it_back(
    client: httpx.Client,
) -> None:
    owner, member = register(client), register(client)
    group = client.post("/v1/groups", json={"name": "Hybrid"}, headers=owner.headers).json()
    assert client.post(f"/v1/groups/{group['id']}/join", headers=member.headers).status_code == 201
    text = f"copied {uuid.uuid4()}"
    sent = client.post(f"/v1/groups/{group['id']}/broadcast", json={"body": text}, headers=owner.headers)
    assert_written(sent, 202)
    # The broadcast's write version names its fan-out: once the writer reads with it, every copy is in
    settled(client, owner.headers, sent)
    copies = [m for m in inbox(client, member) if text in m["body"]]
    assert [(m["id"], m["to"], m["read"]) for m in copies] == [(sent.json()["id"], {"group_id": group["id"]}, False)]
    count = client.get("/v1/messages/unread-count", headers=member.headers).json()["unread"]
    assert count == len(inbox(client, member, unread="true", limit=100))
    assert client.get(f"/v1/messages/{sent.json()['id']}", headers=member.headers).status_code == 200
    marked = client.post(f"/v1/messages/{sent.json()['id']}/read", headers=member.headers)
    assert_written(marked, 204)
    after = client.get("/v1/messages/unread-count", headers=fresh(member.headers, marked))
    assert after.json() == {"unread": count - 1}
