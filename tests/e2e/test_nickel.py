"""Nickel over HTTP against the local stack: assets, issue, transfer, redeem, wallets and notices."""

from __future__ import annotations

import uuid

import httpx

from tests.e2e.contract_support import admin_headers, entity, new_asset
from tests.support.polling import wait_until


def fresh(answer: httpx.Response) -> dict[str, str]:
    return {"X-Min-Version": answer.headers["X-Write-Version"]}


def inbox_bodies(client: httpx.Client, headers: dict[str, str]) -> list[str]:
    """The inbox once the transfer notice has arrived (it is sent from the change feed, asynchronously)."""
    items = wait_until(
        lambda: client.get("/v1/messages/inbox", headers=headers).json()["items"], bool, "the transfer notice"
    )
    return [m["body"] for m in items]


def test_issue_transfer_and_redeem_move_value_and_the_recipient_is_told(client: httpx.Client) -> None:
    admin = admin_headers(client)
    code = new_asset(client, admin)
    alice_id, alice = entity(client)
    bob_id, bob = entity(client)
    issued = client.post(f"/v1/assets/{code}/issue", json={"to": alice_id, "amount": 1000}, headers=admin)
    assert issued.status_code == 201, issued.text
    body = {"to": bob_id, "asset": code, "amount": 250, "memo": "rent"}
    sent = client.post("/v1/transfers", json=body, headers={**alice, "Idempotency-Key": "rent-1"})
    assert sent.status_code == 201, sent.text
    again = client.post("/v1/transfers", json=body, headers={**alice, "Idempotency-Key": "rent-1"})
    assert (again.status_code, again.json()) == (201, sent.json())
    transfer = sent.json()
    assert (transfer["from"], transfer["to"], transfer["kind"], transfer["memo"]) == (
        alice_id,
        bob_id,
        "transfer",
        "rent",
    )
    wallet = client.get("/v1/wallets/me", headers={**alice, **fresh(sent)}).json()
    balance = {"asset": code, "amount": 750, "held": 0, "available": 750, "scale": 2}
    assert wallet == {"entity_id": alice_id, "balances": [balance]}
    history = client.get("/v1/wallets/me/transfers", params={"asset": code}, headers=bob).json()
    assert history["items"] == [transfer]
    redeemed = client.post(f"/v1/assets/{code}/redeem", json={"amount": 250}, headers=bob)
    assert (redeemed.status_code, redeemed.json()["to"]) == (201, None)
    assert client.get("/v1/wallets/me", headers={**bob, **fresh(redeemed)}).json()["balances"][0]["amount"] == 0
    assert any("250" in text and "rent" in text for text in inbox_bodies(client, bob))


def test_the_contracts_refusals_over_http(client: httpx.Client) -> None:
    admin = admin_headers(client)
    code = new_asset(client, admin)
    alice_id, alice = entity(client)
    bob_id, _ = entity(client)
    client.post(f"/v1/assets/{code}/issue", json={"to": alice_id, "amount": 10}, headers=admin)

    def key() -> dict[str, str]:  # a fresh key per request: a key keeps its first answer, refusals too
        return {"Idempotency-Key": str(uuid.uuid4())}

    def transfer(body: dict[str, object], headers: dict[str, str]) -> tuple[int, str]:
        answer = client.post("/v1/transfers", json=body, headers=headers)
        return answer.status_code, answer.json().get("code", "")

    assert transfer({"to": bob_id, "asset": code, "amount": 1}, {}) == (401, "unauthorized")
    assert transfer({"to": bob_id, "asset": code, "amount": 1}, alice) == (400, "invalid_request")
    assert transfer({"to": bob_id, "asset": code, "amount": "1"}, {**alice, **key()}) == (400, "invalid_request")
    assert transfer({"to": bob_id, "asset": code, "amount": 11}, {**alice, **key()}) == (422, "operation_failed")
    assert transfer({"to": alice_id, "asset": code, "amount": 1}, {**alice, **key()}) == (422, "operation_failed")
    assert transfer({"to": str(uuid.uuid4()), "asset": code, "amount": 1}, {**alice, **key()}) == (404, "not_found")
    assert transfer({"to": bob_id, "asset": "NOPE.E2E", "amount": 1}, {**alice, **key()}) == (404, "not_found")
    refused = client.post("/v1/assets", json={"code": "MINE", "name": "Mine", "scale": 0}, headers=alice)
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    taken = client.post("/v1/assets", json={"code": code, "name": "Again", "scale": 0}, headers=admin)
    assert (taken.status_code, taken.json()["code"]) == (409, "conflict")
    assert client.get("/v1/assets/NOPE.E2E", headers=alice).status_code == 404
    listed = client.get("/v1/assets", params={"limit": 100}, headers=alice).json()["items"]
    assert code in [a["code"] for a in listed]
