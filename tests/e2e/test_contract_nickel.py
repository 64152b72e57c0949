"""Nickel against the contract over HTTP: assets, issue, transfer, redeem, wallets, amounts at the
edges of 64 bits, idempotency, and the recipient's system message."""

from __future__ import annotations

import uuid

import httpx

from tests.e2e.contract_support import (
    admin_headers,
    assert_problem,
    assert_written,
    fresh,
    inbox_with,
    key,
    new_asset,
    register,
    settled,
)

MAX = 9_223_372_036_854_775_807
BAD_AMOUNTS = [0, -1, 1.5, 100.0, "10", "1e3", MAX + 1, True, None, [5], {"value": 5}]


def test_assets_are_created_by_admins_listed_by_code_and_validated(client: httpx.Client) -> None:
    admin = admin_headers(client)
    user = register(client)
    code = f"CTA{uuid.uuid4().hex[:6].upper()}"
    created = client.post("/v1/assets", json={"code": code, "name": "Coin", "scale": 18}, headers=admin)
    assert_written(created, 201)
    assert created.json()["code"] == code
    assert set(created.json()) == {"code", "name", "scale", "created_at"}
    assert_problem(
        client.post("/v1/assets", json={"code": code, "name": "x", "scale": 0}, headers=admin), 409, "conflict"
    )
    other = {"code": f"CTB{uuid.uuid4().hex[:6].upper()}", "name": "x", "scale": 0}
    assert_problem(client.post("/v1/assets", json=other, headers=user.headers), 403, "forbidden")
    for bad in (
        {"code": "lower", "name": "x", "scale": 0},
        {"code": "_LEAD", "name": "x", "scale": 0},
        {"code": "A" * 33, "name": "x", "scale": 0},
        {"code": "OK1", "name": "x", "scale": 19},
        {"code": "OK1", "name": "x", "scale": -1},
        {"code": "OK1", "name": "x", "scale": "2"},
        {"code": "OK1", "name": "x", "scale": 2.5},
        {"code": "OK1", "name": "", "scale": 2},
        {"code": "OK1", "name": "   ", "scale": 2},
    ):
        assert_problem(client.post("/v1/assets", json=bad, headers=admin), 400, "invalid_request")
    settled(client, admin, created)
    one = client.get(f"/v1/assets/{code}", headers=user.headers)
    assert (one.status_code, one.json()) == (200, created.json())
    assert_problem(client.get("/v1/assets/NOPE-NOT-HERE", headers=user.headers), 404, "not_found")
    codes: list[str] = []
    cursor = None
    while True:
        page = client.get(
            "/v1/assets", params={"limit": 5, **({"cursor": cursor} if cursor else {})}, headers=user.headers
        )
        assert page.status_code == 200
        codes += [a["code"] for a in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert code in codes
    assert codes == sorted(codes)
    assert len(codes) == len(set(codes))


def test_amounts_are_json_integers_from_1_to_2_63_minus_1_and_anything_else_is_400(client: httpx.Client) -> None:
    admin = admin_headers(client)
    code = new_asset(client, admin)
    alice, bob = register(client), register(client)
    for amount in BAD_AMOUNTS:
        issue = client.post(f"/v1/assets/{code}/issue", json={"to": alice.id, "amount": amount}, headers=admin)
        assert_problem(issue, 400, "invalid_request")
        body = {"to": bob.id, "asset": code, "amount": amount}
        assert_problem(
            client.post("/v1/transfers", json=body, headers={**alice.headers, **key()}), 400, "invalid_request"
        )
        redeem = client.post(f"/v1/assets/{code}/redeem", json={"amount": amount}, headers=alice.headers)
        assert_problem(redeem, 400, "invalid_request")
    raw = f'{{"to": "{alice.id}", "amount": 1.0}}'.encode()
    answer = client.post(f"/v1/assets/{code}/issue", content=raw, headers={**admin, "Content-Type": "application/json"})
    assert_problem(answer, 400, "invalid_request")
    biggest = client.post(f"/v1/assets/{code}/issue", json={"to": alice.id, "amount": MAX}, headers=admin)
    assert_written(biggest, 201)
    assert biggest.json()["amount"] == MAX
    assert_problem(
        client.post(f"/v1/assets/{code}/issue", json={"to": bob.id, "amount": 1}, headers=admin),
        422,
        "operation_failed",
    )
    moved = client.post(
        "/v1/transfers", json={"to": bob.id, "asset": code, "amount": MAX}, headers={**alice.headers, **key()}
    )
    assert_written(moved, 201)
    settled(client, alice.headers, moved)
    wallet = client.get("/v1/wallets/me", headers=bob.headers).json()
    assert wallet == {"entity_id": bob.id, "balances": [{"asset": code, "amount": MAX, "scale": 2}]}


def test_a_transfer_moves_value_once_per_key_tells_the_recipient_and_lists_newest_first(client: httpx.Client) -> None:
    admin = admin_headers(client)
    code = new_asset(client, admin)
    alice, bob = register(client), register(client)
    issued = client.post(f"/v1/assets/{code}/issue", json={"to": alice.id, "amount": 1000}, headers={**admin, **key()})
    assert_written(issued, 201)
    assert (issued.json()["from"], issued.json()["to"], issued.json()["kind"]) == (None, alice.id, "issue")
    body = {"to": bob.id, "asset": code, "amount": 300, "memo": "rent ☂"}
    idem = key()
    sent = client.post("/v1/transfers", json=body, headers={**alice.headers, **idem})
    assert_written(sent, 201)
    transfer = sent.json()
    assert set(transfer) >= {"id", "from", "to", "asset", "amount", "memo", "kind", "created_at"}
    assert (transfer["from"], transfer["to"], transfer["amount"], transfer["memo"], transfer["kind"]) == (
        alice.id,
        bob.id,
        300,
        "rent ☂",
        "transfer",
    )
    replay = client.post("/v1/transfers", json=body, headers={**alice.headers, **idem})
    assert (replay.status_code, replay.json()) == (201, transfer)
    clash = client.post("/v1/transfers", json={**body, "amount": 301}, headers={**alice.headers, **idem})
    assert_problem(clash, 409, "conflict")
    wallet = client.get("/v1/wallets/me", headers=fresh(alice.headers, replay)).json()
    assert wallet["balances"] == [{"asset": code, "amount": 700, "scale": 2}]
    history = client.get("/v1/wallets/me/transfers", params={"asset": code}, headers=fresh(alice.headers, sent))
    assert [t["id"] for t in history.json()["items"]] == [transfer["id"], issued.json()["id"]]
    first = client.get("/v1/wallets/me/transfers", params={"limit": 1}, headers=alice.headers).json()
    assert [t["id"] for t in first["items"]] == [transfer["id"]]
    rest = client.get(
        "/v1/wallets/me/transfers", params={"limit": 1, "cursor": first["next_cursor"]}, headers=alice.headers
    )
    assert [t["id"] for t in rest.json()["items"]] == [issued.json()["id"]]
    notices = inbox_with(client, bob, "300")
    notice = next(m for m in notices if "300" in m["body"])
    assert notice["from"] is None
    assert notice["to"] == {"entity_id": bob.id}
    assert notice["read"] is False


def test_transfers_are_refused_by_the_contract_table(client: httpx.Client) -> None:
    admin = admin_headers(client)
    code = new_asset(client, admin)
    alice, bob, gone = register(client), register(client), register(client)
    client.post(f"/v1/assets/{code}/issue", json={"to": alice.id, "amount": 10}, headers=admin)
    assert client.delete("/v1/entities/me", headers=gone.headers).status_code == 204
    body = {"to": bob.id, "asset": code, "amount": 5}
    assert_problem(client.post("/v1/transfers", json=body, headers=alice.headers), 400, "invalid_request")
    cases = [
        ({**body, "amount": 11}, 422, "operation_failed"),
        ({**body, "to": alice.id}, 422, "operation_failed"),
        ({**body, "to": str(uuid.uuid4())}, 404, "not_found"),
        ({**body, "to": gone.id}, 404, "not_found"),
        ({**body, "asset": "NOPE-NOT-HERE"}, 404, "not_found"),
        ({**body, "to": "not-a-uuid"}, 400, "invalid_request"),
        ({**body, "memo": "m" * 281}, 400, "invalid_request"),
        ({**body, "surprise": True}, 400, "invalid_request"),
        ([body], 400, "invalid_request"),
    ]
    for sent, status, code_name in cases:
        assert_problem(client.post("/v1/transfers", json=sent, headers={**alice.headers, **key()}), status, code_name)
    assert_written(
        client.post("/v1/transfers", json={**body, "memo": "m" * 280}, headers={**alice.headers, **key()}), 201
    )
    assert_problem(
        client.post(f"/v1/assets/{code}/issue", json={"to": alice.id, "amount": 1}, headers=alice.headers),
        403,
        "forbidden",
    )
    assert_problem(
        client.post("/v1/assets/NOPE-NOT-HERE/issue", json={"to": alice.id, "amount": 1}, headers=admin),
        404,
        "not_found",
    )
    assert_problem(
        client.post(f"/v1/assets/{code}/issue", json={"to": str(uuid.uuid4()), "amount": 1}, headers=admin),
        404,
        "not_found",
    )


def test_redeem_returns_value_to_the_issuer_side_and_cannot_overdraw(client: httpx.Client) -> None:
    admin = admin_headers(client)
    code = new_asset(client, admin)
    alice = register(client)
    client.post(f"/v1/assets/{code}/issue", json={"to": alice.id, "amount": 50}, headers=admin)
    idem = key()
    redeemed = client.post(f"/v1/assets/{code}/redeem", json={"amount": 20}, headers={**alice.headers, **idem})
    assert_written(redeemed, 201)
    assert (redeemed.json()["from"], redeemed.json()["to"], redeemed.json()["kind"]) == (alice.id, None, "redeem")
    again = client.post(f"/v1/assets/{code}/redeem", json={"amount": 20}, headers={**alice.headers, **idem})
    assert (again.status_code, again.json()) == (201, redeemed.json())
    assert_problem(
        client.post(f"/v1/assets/{code}/redeem", json={"amount": 31}, headers=alice.headers), 422, "operation_failed"
    )
    assert_problem(
        client.post("/v1/assets/NOPE-NOT-HERE/redeem", json={"amount": 1}, headers=alice.headers), 404, "not_found"
    )
    wallet = client.get("/v1/wallets/me", headers=fresh(alice.headers, again)).json()
    assert wallet["balances"] == [{"asset": code, "amount": 30, "scale": 2}]


def test_a_refused_request_repeated_with_its_key_answers_the_first_refusal_and_moves_nothing(
    client: httpx.Client,
) -> None:
    admin = admin_headers(client)
    code = new_asset(client, admin)
    alice, bob = register(client), register(client)
    body = {"to": bob.id, "asset": code, "amount": 50}
    idem = key()
    refused = client.post("/v1/transfers", json=body, headers={**alice.headers, **idem})
    first = assert_problem(refused, 422, "operation_failed")
    funded = client.post(f"/v1/assets/{code}/issue", json={"to": alice.id, "amount": 100}, headers=admin)
    assert_written(funded, 201)
    again = client.post("/v1/transfers", json=body, headers={**alice.headers, **idem})
    assert (assert_problem(again, 422, "operation_failed")["detail"], again.status_code) == (first["detail"], 422)
    assert_problem(
        client.post("/v1/transfers", json={**body, "amount": 5}, headers={**alice.headers, **idem}), 409, "conflict"
    )
    moved = client.post("/v1/transfers", json=body, headers={**alice.headers, **key()})
    assert_written(moved, 201)
    wallet = client.get("/v1/wallets/me", headers=fresh(alice.headers, moved)).json()
    assert wallet["balances"] == [{"asset": code, "amount": 50, "scale": 2}]
