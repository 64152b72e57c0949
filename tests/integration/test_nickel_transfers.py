"""Nickel's issue, transfer and redeem through the real handlers, with the wallet and history reads."""

from __future__ import annotations

import json

import psycopg

from tests.integration.nickel_support import (
    UNKNOWN,
    assert_ledger_consistent,
    issue,
    ledger_balances,
    new_asset,
    nickel,
    pay,
    redeem,
)
from tests.integration.social_support import _call, deactivate, person, read
from tests.support.streams import StreamDriver

MAX = 9_223_372_036_854_775_807


def wallet(caller) -> dict[str, int]:  # type: ignore[no-untyped-def]
    answer = read("/v1/wallets/me", caller)
    assert answer.status == 200, answer.body
    assert answer.body["entity_id"] == str(caller.entity_id)
    return {b["asset"]: b["amount"] for b in answer.body["balances"] if b["amount"]}


def test_an_admin_issues_to_a_wallet_and_the_holder_sees_balance_and_history(stack: StreamDriver) -> None:
    admin, alice = person(stack, frozenset({"admin"})), person(stack)
    new_asset(stack, admin, "USD", scale=2)
    issued = issue(stack, admin, alice, 1_000)
    assert issued.status == 201, issued.body
    assert issued.header("X-Write-Version")
    transfer = issued.body
    assert set(transfer) == {"id", "from", "to", "asset", "amount", "memo", "kind", "reverses", "created_at"}
    assert transfer["reverses"] is None
    assert (transfer["from"], transfer["to"], transfer["asset"]) == (None, str(alice.entity_id), "USD")
    assert (transfer["amount"], transfer["kind"]) == (1_000, "issue")
    assert read("/v1/wallets/me", alice).body["balances"] == [
        {"asset": "USD", "amount": 1_000, "held": 0, "available": 1_000, "scale": 2}
    ]
    assert read("/v1/wallets/me/transfers", alice).body == {"items": [transfer], "next_cursor": None}


def test_a_transfer_moves_value_between_wallets_and_shows_in_both_histories(stack: StreamDriver, postgres: str) -> None:
    admin, alice, bob = person(stack, frozenset({"admin"})), person(stack), person(stack)
    new_asset(stack, admin)
    issue(stack, admin, alice, 500)
    sent = pay(stack, alice, bob, 120, memo="lunch")
    assert sent.status == 201, sent.body
    assert (sent.body["from"], sent.body["to"]) == (str(alice.entity_id), str(bob.entity_id))
    assert (sent.body["amount"], sent.body["memo"], sent.body["kind"]) == (120, "lunch", "transfer")
    assert (wallet(alice), wallet(bob)) == ({"USD": 380}, {"USD": 120})
    assert read("/v1/wallets/me/transfers", bob).body["items"] == [sent.body]
    assert [t["kind"] for t in read("/v1/wallets/me/transfers", alice).body["items"]] == ["transfer", "issue"]
    assert ledger_balances(postgres) == {None: -500, alice.entity_id: 380, bob.entity_id: 120}
    assert_ledger_consistent(postgres)


def test_a_transfer_beyond_the_balance_is_422_and_changes_nothing(stack: StreamDriver, postgres: str) -> None:
    admin, alice, bob = person(stack, frozenset({"admin"})), person(stack), person(stack)
    new_asset(stack, admin)
    issue(stack, admin, alice, 100)
    refused = pay(stack, alice, bob, 101)
    assert (refused.status, refused.body["code"]) == (422, "operation_failed")
    never_funded = pay(stack, bob, alice, 1)
    assert (never_funded.status, never_funded.body["code"]) == (422, "operation_failed")
    assert pay(stack, alice, bob, 100).status == 201
    assert (wallet(alice), wallet(bob)) == ({}, {"USD": 100})
    assert_ledger_consistent(postgres)


def test_a_transfer_to_oneself_is_422_and_to_an_unknown_recipient_or_asset_is_404(
    stack: StreamDriver, postgres: str
) -> None:
    admin, alice, gone = person(stack, frozenset({"admin"})), person(stack), person(stack)
    new_asset(stack, admin)
    issue(stack, admin, alice, 100)
    deactivate(stack, gone)
    to_self = pay(stack, alice, alice, 10)
    assert (to_self.status, to_self.body["code"]) == (422, "operation_failed")
    for answer in (pay(stack, alice, UNKNOWN, 10), pay(stack, alice, gone, 10), pay(stack, alice, admin, 10, "NOPE")):
        assert (answer.status, answer.body["code"]) == (404, "not_found")
    assert wallet(alice) == {"USD": 100}
    with psycopg.connect(postgres) as conn:
        assert conn.execute("SELECT count(*) FROM transfers").fetchone() == (1,)


def test_a_transfer_without_an_idempotency_key_is_400(stack: StreamDriver) -> None:
    admin, alice, bob = person(stack, frozenset({"admin"})), person(stack), person(stack)
    new_asset(stack, admin)
    issue(stack, admin, alice, 100)
    body = {"to": str(bob.entity_id), "asset": "USD", "amount": 1}
    answer = nickel(stack, "POST", "/v1/transfers", alice, body=body)
    assert (answer.status, answer.body["code"]) == (400, "invalid_request")
    bad_key = nickel(stack, "POST", "/v1/transfers", alice, body=body, headers={"Idempotency-Key": "a" * 129})
    assert (bad_key.status, bad_key.body["code"]) == (400, "invalid_request")
    assert wallet(alice) == {"USD": 100}


def test_amounts_must_be_json_integers_within_bounds_and_memos_at_most_280_chars(stack: StreamDriver) -> None:
    admin, alice, bob = person(stack, frozenset({"admin"})), person(stack), person(stack)
    new_asset(stack, admin)
    issue(stack, admin, alice, 100)
    for amount in ("10", 1.5, 1.0, 0, -1, MAX + 1, None, True):
        answer = pay(stack, alice, bob, amount)
        assert (answer.status, answer.body["code"]) == (400, "invalid_request"), amount
    too_long = pay(stack, alice, bob, 1, memo="x" * 281)
    assert (too_long.status, too_long.body["code"]) == (400, "invalid_request")
    for body in ({"to": "bob", "asset": "USD", "amount": 1}, {"asset": "USD", "amount": 1}, {"to": str(bob.entity_id)}):
        answer = nickel(stack, "POST", "/v1/transfers", alice, body=body, headers={"Idempotency-Key": "x"})
        assert (answer.status, answer.body["code"]) == (400, "invalid_request"), body
    assert pay(stack, alice, bob, 1, memo="x" * 280).status == 201
    assert wallet(alice) == {"USD": 99}


def test_a_retried_transfer_returns_the_first_answer_and_another_body_with_the_key_is_409(
    stack: StreamDriver, postgres: str
) -> None:
    admin, alice, bob = person(stack, frozenset({"admin"})), person(stack), person(stack)
    new_asset(stack, admin)
    issue(stack, admin, alice, 100)
    first = pay(stack, alice, bob, 30, key="pay-1")
    again = pay(stack, alice, bob, 30, key="pay-1")
    assert (first.status, again.status) == (201, 201)
    assert again.body == first.body
    assert again.header("X-Write-Version") == first.header("X-Write-Version")
    other = pay(stack, alice, bob, 31, key="pay-1")
    assert (other.status, other.body["code"]) == (409, "conflict")
    assert (wallet(alice), wallet(bob)) == ({"USD": 70}, {"USD": 30})
    assert pay(stack, bob, alice, 30, key="pay-1").status == 201  # keys are per caller


def test_a_refused_transfer_repeated_with_its_key_answers_the_first_refusal_even_once_funded(
    stack: StreamDriver,
) -> None:
    # The contract: a repeat of a key with the same body returns the first response and changes nothing
    admin, alice, bob = person(stack, frozenset({"admin"})), person(stack), person(stack)
    new_asset(stack, admin)
    assert pay(stack, alice, bob, 50, key="early").status == 422
    issue(stack, admin, alice, 50)
    assert pay(stack, alice, bob, 50, key="early").status == 422
    assert pay(stack, alice, bob, 50, key="later").status == 201
    assert wallet(bob) == {"USD": 50}


def test_issue_is_for_platform_admins_and_needs_a_known_asset_and_an_active_recipient(
    stack: StreamDriver, postgres: str
) -> None:
    admin, alice, gone = person(stack, frozenset({"admin"})), person(stack), person(stack)
    new_asset(stack, admin)
    deactivate(stack, gone)
    refused = issue(stack, alice, alice, 10)
    assert (refused.status, refused.body["code"]) == (403, "forbidden")
    for answer in (
        issue(stack, admin, alice, 10, "NOPE"),
        issue(stack, admin, gone, 10),
        issue(stack, admin, alice, 10, "usd"),
    ):
        assert (answer.status, answer.body["code"]) == (404, "not_found")
    body = {"to": UNKNOWN, "amount": 10}
    unknown = nickel(stack, "POST", "/v1/assets/USD/issue", admin, body=body)
    assert (unknown.status, unknown.body["code"]) == (404, "not_found")
    with psycopg.connect(postgres) as conn:
        assert conn.execute("SELECT count(*) FROM transfers").fetchone() == (0,)


def test_issue_is_idempotent_with_a_key_and_refuses_to_overflow_the_total_supply(
    stack: StreamDriver, postgres: str
) -> None:
    admin, alice, bob = person(stack, frozenset({"admin"})), person(stack), person(stack)
    new_asset(stack, admin)
    first = issue(stack, admin, alice, MAX - 10, headers={"Idempotency-Key": "mint"})
    again = issue(stack, admin, alice, MAX - 10, headers={"Idempotency-Key": "mint"})
    assert (first.status, again.body) == (201, first.body)
    over = issue(stack, admin, bob, 11)
    assert (over.status, over.body["code"]) == (422, "operation_failed")
    assert issue(stack, admin, bob, 10).status == 201
    assert (wallet(alice), wallet(bob)) == ({"USD": MAX - 10}, {"USD": 10})
    assert ledger_balances(postgres)[None] == -MAX
    assert_ledger_consistent(postgres)


def test_redeem_returns_value_to_the_issuer_side_and_refuses_more_than_the_balance(
    stack: StreamDriver, postgres: str
) -> None:
    admin, alice = person(stack, frozenset({"admin"})), person(stack)
    new_asset(stack, admin)
    issue(stack, admin, alice, 100)
    done = redeem(stack, alice, 40, headers={"Idempotency-Key": "r1"})
    assert done.status == 201, done.body
    assert (done.body["from"], done.body["to"], done.body["kind"]) == (str(alice.entity_id), None, "redeem")
    assert redeem(stack, alice, 40, headers={"Idempotency-Key": "r1"}).body == done.body
    too_much = redeem(stack, alice, 61)
    assert (too_much.status, too_much.body["code"]) == (422, "operation_failed")
    unknown = redeem(stack, alice, 1, "NOPE")
    assert (unknown.status, unknown.body["code"]) == (404, "not_found")
    assert wallet(alice) == {"USD": 60}
    assert ledger_balances(postgres)[None] == -60
    assert_ledger_consistent(postgres)


def test_history_is_newest_first_in_stable_pages_and_filters_by_asset(stack: StreamDriver) -> None:
    admin, alice, bob = person(stack, frozenset({"admin"})), person(stack), person(stack)
    new_asset(stack, admin, "USD")
    new_asset(stack, admin, "GOLD", scale=0)
    issue(stack, admin, alice, 100, "USD")
    issue(stack, admin, alice, 100, "GOLD")
    sent = [pay(stack, alice, bob, n, "USD" if n % 2 else "GOLD").body["id"] for n in range(1, 6)]
    seen: list[str] = []
    cursor: str | None = None
    while True:
        page = read("/v1/wallets/me/transfers", bob, query={"limit": "2", **({"cursor": cursor} if cursor else {})})
        assert page.status == 200, page.body
        seen += [t["id"] for t in page.body["items"]]
        cursor = page.body["next_cursor"]
        if cursor is None:
            break
    assert seen == sent[::-1]
    gold = read("/v1/wallets/me/transfers", bob, query={"asset": "GOLD"}).body["items"]
    assert [t["amount"] for t in gold] == [4, 2]
    assert len(read("/v1/wallets/me/transfers", alice, query={"asset": "USD"}).body["items"]) == 4
    assert read("/v1/wallets/me/transfers", bob, query={"asset": "bad code"}).status == 400
    assert wallet(bob) == {"GOLD": 6, "USD": 9}


def test_every_posted_transfer_is_on_the_change_feed_with_the_full_transfer(stack: StreamDriver) -> None:
    admin, alice, bob = person(stack, frozenset({"admin"})), person(stack), person(stack)
    new_asset(stack, admin)
    issue(stack, admin, alice, 100)
    body = {"to": str(bob.entity_id), "asset": "USD", "amount": 5, "memo": "hi"}
    sent = _call("nickel.app", "POST", "/v1/transfers", alice, body=body, headers={"Idempotency-Key": "feed"})
    images = [r["dynamodb"]["NewImage"] for r in stack.records() if r["eventName"] == "INSERT"]
    posted = [i for i in images if i["event_type"]["S"] == "TransferPosted"]
    assert [(i["aggregate"]["S"], i["version"]["N"]) for i in posted] == [(f"transfer#{sent.body['id']}", "1")]
    assert json.loads(posted[0]["payload"]["S"]) == {**sent.body, "version": 1}
    wallets = sorted(i["aggregate"]["S"] for i in images if i["event_type"]["S"] == "BalanceChanged")
    assert wallets == sorted(f"wallet#{who.entity_id}:USD" for who in (alice, bob))
