"""Rhenium over HTTP against the local stack: direct messages, broadcasts, read state."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.e2e.contract_support import admin_headers, entity, settled
from tests.support.polling import wait_until


def test_a_direct_message_is_delivered_read_and_hidden_from_others(client: httpx.Client) -> None:
    _, alice = entity(client)
    bob_id, bob = entity(client)
    _, eve = entity(client)
    sent = client.post(
        "/v1/messages", json={"to_entity": bob_id, "body": "hi"}, headers={**alice, "Idempotency-Key": "m1"}
    )
    assert sent.status_code == 201, sent.text
    replay = client.post(
        "/v1/messages", json={"to_entity": bob_id, "body": "hi"}, headers={**alice, "Idempotency-Key": "m1"}
    )
    assert replay.json() == sent.json()
    settled(client, alice, sent)
    message = sent.json()
    inbox = client.get("/v1/messages/inbox", params={"unread": "true"}, headers=bob).json()
    assert [m["id"] for m in inbox["items"]] == [message["id"]]
    assert client.get(f"/v1/messages/{message['id']}", headers=eve).status_code == 404
    marked = client.post(f"/v1/messages/{message['id']}/read", headers=bob)
    assert marked.status_code == 204, marked.text
    after = {"X-Min-Version": marked.headers["X-Write-Version"]}
    assert client.get("/v1/messages/inbox", params={"unread": "true"}, headers={**bob, **after}).json()["items"] == []
    assert client.get(f"/v1/messages/{message['id']}", headers={**bob, **after}).json()["read"] is True


def test_a_message_to_nobody_is_404_and_only_admins_broadcast(client: httpx.Client) -> None:
    _, alice = entity(client)
    missing = client.post("/v1/messages", json={"to_entity": str(uuid.uuid4()), "body": "hi"}, headers=alice)
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    assert client.post("/v1/broadcasts", json={"body": "hear me"}, headers=alice).status_code == 403
    admin = admin_headers(client)
    sent = client.post("/v1/broadcasts", json={"body": "hello everyone"}, headers=admin)
    assert sent.status_code == 202, sent.text
    assert sent.json()["to"] == {"all": True}
    settled(client, admin, sent)
    inbox = client.get("/v1/messages/inbox", headers=alice)
    assert sent.json()["id"] in [m["id"] for m in inbox.json()["items"]]


def wait_for_inbox(client: httpx.Client, headers: dict[str, str], count: int) -> list[dict[str, Any]]:
    """The inbox once it holds ``count`` messages (system messages arrive through the change feed)."""
    return wait_until(
        lambda: client.get("/v1/messages/inbox", headers=headers).json()["items"],
        lambda items: len(items) >= count,
        f"{count} messages in the inbox",
    )


def test_the_recipient_of_a_transfer_gets_one_system_message(client: httpx.Client) -> None:
    admin = admin_headers(client)
    alice_id, alice = entity(client)
    bob_id, bob = entity(client)
    code = f"R{uuid.uuid4().hex[:8].upper()}"
    assert (
        client.post("/v1/assets", json={"code": code, "name": "Tokens", "scale": 0}, headers=admin).status_code == 201
    )
    issued = client.post(f"/v1/assets/{code}/issue", json={"to": alice_id, "amount": 50}, headers=admin)
    assert issued.status_code == 201, issued.text
    paid = client.post(
        "/v1/transfers",
        json={"to": bob_id, "asset": code, "amount": 20, "memo": "lunch"},
        headers={**alice, "Idempotency-Key": "t-1", "X-Min-Version": issued.headers["X-Write-Version"]},
    )
    assert paid.status_code == 201, paid.text
    inbox = wait_for_inbox(client, bob, 1)
    assert [(m["from"], m["to"]) for m in inbox] == [(None, {"entity_id": bob_id})]
    assert "lunch" in inbox[0]["body"]
    assert len(wait_for_inbox(client, alice, 1)) == 1  # alice was told of the issue
