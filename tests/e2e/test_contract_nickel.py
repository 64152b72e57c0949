"""Nickel against the contract over HTTP: assets, issue, transfer, redeem, wallets, amounts at the
edges of 64 bits, idempotency, the recipient's system message, holds and reversals."""

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
    assert wallet == {
        "entity_id": bob.id,
        "balances": [{"asset": code, "amount": MAX, "held": 0, "available": MAX, "scale": 2}],
    }


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
    assert wallet["balances"] == [{"asset": code, "amount": 700, "held": 0, "available": 700, "scale": 2}]
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
    assert wallet["balances"] == [{"asset": code, "amount": 30, "held": 0, "available": 30, "scale": 2}]


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
    assert wallet["balances"] == [{"asset": code, "amount": 50, "held": 0, "available": 50, "scale": 2}]


def balance_of(client: httpx.Client, headers: dict[str, str], code: str) -> dict[str, int]:
    balances = client.get("/v1/wallets/me", headers=headers).json()["balances"]
    return next({k: b[k] for k in ("amount", "held", "available")} for b in balances if b["asset"] == code)


def test_a_hold_reserves_available_value_until_the_payee_captures_part_and_the_rest_is_released(
    client: httpx.Client,
) -> None:
    # Given alice with 100 and a hold of 60 for bob
    admin = admin_headers(client)
    code = new_asset(client, admin)
    alice, bob, carol = register(client), register(client), register(client)
    client.post(f"/v1/assets/{code}/issue", json={"to": alice.id, "amount": 100}, headers=admin)
    body = {"to": bob.id, "asset": code, "amount": 60, "memo": "deposit", "expires_in": 3600}
    assert_problem(client.post("/v1/holds", json=body, headers=alice.headers), 400, "invalid_request")
    idem = key()
    placed = client.post("/v1/holds", json=body, headers={**alice.headers, **idem})
    assert_written(placed, 201)
    hold = placed.json()
    assert set(hold) == {
        "id",
        "from",
        "to",
        "asset",
        "amount",
        "captured",
        "status",
        "memo",
        "expires_at",
        "created_at",
    }
    assert (hold["from"], hold["to"], hold["amount"], hold["captured"], hold["status"]) == (
        alice.id,
        bob.id,
        60,
        0,
        "pending",
    )
    replay = client.post("/v1/holds", json=body, headers={**alice.headers, **idem})
    assert (replay.status_code, replay.json()) == (201, hold)
    # Then alice owns 100 but may spend 40, and only the parties see the hold
    assert balance_of(client, fresh(alice.headers, placed), code) == {"amount": 100, "held": 60, "available": 40}
    too_much = {"to": bob.id, "asset": code, "amount": 41}
    assert_problem(
        client.post("/v1/transfers", json=too_much, headers={**alice.headers, **key()}), 422, "operation_failed"
    )
    settled(client, alice.headers, placed)
    assert client.get(f"/v1/holds/{hold['id']}", headers=bob.headers).json() == hold
    assert_problem(client.get(f"/v1/holds/{hold['id']}", headers=carol.headers), 404, "not_found")
    # When bob captures 45 of it
    taken = client.post(f"/v1/holds/{hold['id']}/capture", json={"amount": 45}, headers={**bob.headers, **key()})
    # Then a capture transfer pays bob 45 and the other 15 are alice's to spend again
    assert_written(taken, 201)
    capture = taken.json()
    assert (capture["kind"], capture["from"], capture["to"], capture["amount"], capture["reverses"]) == (
        "capture",
        alice.id,
        bob.id,
        45,
        None,
    )
    assert balance_of(client, fresh(bob.headers, taken), code) == {"amount": 45, "held": 0, "available": 45}
    settled(client, bob.headers, taken)
    assert balance_of(client, alice.headers, code) == {"amount": 55, "held": 0, "available": 55}
    mine = client.get("/v1/holds", params={"role": "payer"}, headers=alice.headers).json()
    assert [(h["id"], h["status"], h["captured"]) for h in mine["items"]] == [(hold["id"], "captured", 45)]
    assert client.get("/v1/holds", params={"status": "pending"}, headers=bob.headers).json()["items"] == []
    for again in (
        client.post(f"/v1/holds/{hold['id']}/capture", headers={**bob.headers, **key()}),
        client.post(f"/v1/holds/{hold['id']}/void", headers=alice.headers),
    ):
        assert_problem(again, 422, "operation_failed")
    # And bob is told of the capture in his inbox
    notice = next(m for m in inbox_with(client, bob, "capture") if "capture" in m["body"])
    assert (notice["from"], "45" in notice["body"]) == (None, True)


def test_holds_are_refused_voided_and_listed_by_the_contract_table(client: httpx.Client) -> None:
    admin = admin_headers(client)
    code = new_asset(client, admin)
    alice, bob, carol, gone = register(client), register(client), register(client), register(client)
    client.post(f"/v1/assets/{code}/issue", json={"to": alice.id, "amount": 50}, headers=admin)
    assert client.delete("/v1/entities/me", headers=gone.headers).status_code == 204
    body = {"to": bob.id, "asset": code, "amount": 20}
    cases = [
        ({**body, "amount": 51}, 422, "operation_failed"),
        ({**body, "to": alice.id}, 422, "operation_failed"),
        ({**body, "to": str(uuid.uuid4())}, 404, "not_found"),
        ({**body, "to": gone.id}, 404, "not_found"),
        ({**body, "asset": "NOPE-NOT-HERE"}, 404, "not_found"),
        ({**body, "expires_in": 59}, 400, "invalid_request"),
        ({**body, "expires_in": 604_801}, 400, "invalid_request"),
        ({**body, "amount": "20"}, 400, "invalid_request"),
        ({**body, "memo": "m" * 281}, 400, "invalid_request"),
    ]
    for sent, status, code_name in cases:
        assert_problem(client.post("/v1/holds", json=sent, headers={**alice.headers, **key()}), status, code_name)
    placed = client.post("/v1/holds", json=body, headers={**alice.headers, **key()})
    assert_written(placed, 201)
    hold_id = placed.json()["id"]
    settled(client, alice.headers, placed)
    capture = f"/v1/holds/{hold_id}/capture"
    assert_problem(client.post(capture, json={}, headers={**alice.headers, **key()}), 403, "forbidden")
    assert_problem(client.post(capture, json={}, headers={**carol.headers, **key()}), 404, "not_found")
    assert_problem(client.post(capture, json={"amount": 21}, headers={**bob.headers, **key()}), 422, "operation_failed")
    assert_problem(client.post(capture, json={}, headers=bob.headers), 400, "invalid_request")  # no key
    assert_problem(client.post(f"/v1/holds/{hold_id}/void", headers=carol.headers), 404, "not_found")
    assert_problem(client.post(f"/v1/holds/{uuid.uuid4()}/void", headers=bob.headers), 404, "not_found")
    voided = client.post(f"/v1/holds/{hold_id}/void", headers=bob.headers)
    assert_written(voided, 200)
    assert (voided.json()["status"], voided.json()["captured"]) == ("voided", 0)
    settled(client, bob.headers, voided)
    assert balance_of(client, alice.headers, code) == {"amount": 50, "held": 0, "available": 50}
    assert_problem(client.get("/v1/holds", params={"role": "owner"}, headers=alice.headers), 400, "invalid_request")


def test_no_capture_succeeds_after_expires_at_even_before_the_sweeper_ran(client: httpx.Client) -> None:
    import psycopg

    from tests.e2e.conftest import STORES

    # Given a hold whose expires_at has passed (moved into the past in the stack's own database)
    admin = admin_headers(client)
    code = new_asset(client, admin)
    alice, bob = register(client), register(client)
    client.post(f"/v1/assets/{code}/issue", json={"to": alice.id, "amount": 50}, headers=admin)
    placed = client.post(
        "/v1/holds", json={"to": bob.id, "asset": code, "amount": 20}, headers={**alice.headers, **key()}
    )
    assert_written(placed, 201)
    with psycopg.connect(STORES["database_url"]) as conn:
        conn.execute("SET session_replication_role = replica")  # a test-only edit the holds' triggers refuse
        conn.execute(
            "UPDATE holds SET expires_at = created_at + interval '1 microsecond' WHERE id = %s", (placed.json()["id"],)
        )
    # When the payee captures it, or the payer voids it
    capture = client.post(f"/v1/holds/{placed.json()['id']}/capture", headers={**bob.headers, **key()})
    void = client.post(f"/v1/holds/{placed.json()['id']}/void", headers=alice.headers)
    # Then both are refused: it has expired, whether the sweeper marked it yet or not
    assert_problem(capture, 422, "operation_failed")
    assert_problem(void, 422, "operation_failed")


def test_an_admin_reverses_a_transfer_once_with_a_linked_reversal_and_never_a_reversal(client: httpx.Client) -> None:
    # Given alice paid bob 30
    admin = admin_headers(client)
    code = new_asset(client, admin)
    alice, bob = register(client), register(client)
    issued = client.post(f"/v1/assets/{code}/issue", json={"to": alice.id, "amount": 100}, headers=admin)
    paid = client.post(
        "/v1/transfers", json={"to": bob.id, "asset": code, "amount": 30}, headers={**alice.headers, **key()}
    )
    assert_written(paid, 201)
    path = f"/v1/transfers/{paid.json()['id']}/reverse"
    # When others than an admin, or an admin without a key or reason, try to reverse it
    assert_problem(client.post(path, json={"reason": "x"}, headers={**alice.headers, **key()}), 403, "forbidden")
    assert_problem(client.post(path, json={"reason": "x"}, headers=admin), 400, "invalid_request")
    assert_problem(client.post(path, json={"reason": ""}, headers={**admin, **key()}), 400, "invalid_request")
    assert_problem(
        client.post(f"/v1/transfers/{uuid.uuid4()}/reverse", json={"reason": "x"}, headers={**admin, **key()}),
        404,
        "not_found",
    )
    # When an admin reverses it, and repeats the request with the same key
    idem = key()
    reversed_ = client.post(path, json={"reason": "wrong payee"}, headers={**admin, **idem})
    assert_written(reversed_, 201)
    replay = client.post(path, json={"reason": "wrong payee"}, headers={**admin, **idem})
    # Then one reversal moves the 30 back, linked to the payment, its reason as memo
    reversal = reversed_.json()
    assert (replay.status_code, replay.json()) == (201, reversal)
    assert (reversal["kind"], reversal["reverses"], reversal["memo"]) == ("reversal", paid.json()["id"], "wrong payee")
    assert (reversal["from"], reversal["to"], reversal["amount"]) == (bob.id, alice.id, 30)
    settled(client, admin, reversed_)
    assert balance_of(client, alice.headers, code)["amount"] == 100
    history = client.get("/v1/wallets/me/transfers", headers=bob.headers).json()["items"]
    assert [t["kind"] for t in history] == ["reversal", "transfer"]
    # And it is reversed at most once, its reversal never, and an issue goes back to the issuer side
    assert_problem(client.post(path, json={"reason": "again"}, headers={**admin, **key()}), 409, "conflict")
    twice = f"/v1/transfers/{reversal['id']}/reverse"
    assert_problem(client.post(twice, json={"reason": "x"}, headers={**admin, **key()}), 422, "operation_failed")
    unissued = client.post(
        f"/v1/transfers/{issued.json()['id']}/reverse", json={"reason": "test issue"}, headers={**admin, **key()}
    )
    assert_written(unissued, 201)
    assert (unissued.json()["from"], unissued.json()["to"], unissued.json()["amount"]) == (alice.id, None, 100)
