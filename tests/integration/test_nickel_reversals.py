"""Nickel's reversals through the real handlers: a new, linked transfer moving the amount back."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from tests.integration.nickel_support import (
    UNKNOWN,
    assert_ledger_consistent,
    capture,
    hold,
    issue,
    ledger_balances,
    new_asset,
    pay,
    redeem,
    reverse,
)
from tests.integration.social_support import person, read
from tests.support.streams import StreamDriver

ADMIN = frozenset({"admin"})


def available(caller: Any) -> int:
    balances = read("/v1/wallets/me", caller).body["balances"]
    return sum(b["available"] for b in balances if b["asset"] == "USD")


def test_a_reversal_moves_a_payment_back_linked_to_it_and_both_parties_see_it(
    stack: StreamDriver, postgres: str
) -> None:
    # Given alice paid bob 30 of her 100
    admin, alice, bob = person(stack, ADMIN), person(stack), person(stack)
    new_asset(stack, admin)
    issue(stack, admin, alice, 100)
    paid = pay(stack, alice, bob, 30).body
    # When an admin reverses the payment
    undone = reverse(stack, admin, paid["id"], "paid the wrong person")
    # Then a reversal transfer moves 30 from bob back to alice, naming the payment and the reason
    assert undone.status == 201, undone.body
    assert undone.header("X-Write-Version")
    assert (undone.body["kind"], undone.body["reverses"], undone.body["memo"]) == (
        "reversal",
        paid["id"],
        "paid the wrong person",
    )
    assert (undone.body["from"], undone.body["to"], undone.body["amount"]) == (
        str(bob.entity_id),
        str(alice.entity_id),
        30,
    )
    assert (available(alice), available(bob)) == (100, 0)
    for party in (alice, bob):
        assert read("/v1/wallets/me/transfers", party).body["items"][0] == undone.body
    # And the journal kept both rows: the payment is not edited
    with psycopg.connect(postgres) as conn:
        kinds = conn.execute("SELECT kind FROM transfers ORDER BY created_at").fetchall()
    assert kinds == [("issue",), ("transfer",), ("reversal",)]
    assert_ledger_consistent(postgres)


def test_a_transfer_is_reversed_at_most_once_and_a_reversal_never(stack: StreamDriver, postgres: str) -> None:
    # Given a payment reversed once
    admin, alice, bob = person(stack, ADMIN), person(stack), person(stack)
    new_asset(stack, admin)
    issue(stack, admin, alice, 100)
    paid = pay(stack, alice, bob, 30).body
    undone = reverse(stack, admin, paid["id"]).body
    # When it is reversed again, or its reversal is
    again, twice = reverse(stack, admin, paid["id"]), reverse(stack, admin, undone["id"])
    # Then the first is a conflict, the second is refused, and nothing moves
    assert (again.status, again.body["code"]) == (409, "conflict")
    assert (twice.status, twice.body["code"]) == (422, "operation_failed")
    assert (available(alice), available(bob)) == (100, 0)
    assert_ledger_consistent(postgres)


def test_reversals_are_for_platform_admins_and_need_a_known_transfer_a_reason_and_a_key(stack: StreamDriver) -> None:
    from tests.integration.nickel_support import nickel

    admin, alice, bob = person(stack, ADMIN), person(stack), person(stack)
    new_asset(stack, admin)
    issue(stack, admin, alice, 100)
    paid = pay(stack, alice, bob, 30).body
    # When the payer, an unknown transfer, a bad reason or no key are tried
    assert reverse(stack, alice, paid["id"]).status == 403
    for missing in (UNKNOWN, "not-a-uuid"):
        assert reverse(stack, admin, missing).status == 404
    for reason in ("", "   ", "r" * 281):
        assert reverse(stack, admin, paid["id"], reason).status == 400
    no_key = nickel(stack, "POST", f"/v1/transfers/{paid['id']}/reverse", admin, body={"reason": "x"})
    assert (no_key.status, no_key.body["code"]) == (400, "invalid_request")
    # Then nothing was reversed
    assert (available(alice), available(bob)) == (70, 30)


def test_a_reversal_needs_the_holders_available_value_not_what_is_held(stack: StreamDriver, postgres: str) -> None:
    # Given bob received 30 from alice, then held 20 of it for carol
    admin, alice, bob, carol = person(stack, ADMIN), person(stack), person(stack), person(stack)
    new_asset(stack, admin)
    issue(stack, admin, alice, 100)
    paid = pay(stack, alice, bob, 30).body
    assert hold(stack, bob, carol, 20).status == 201
    # When an admin reverses the payment
    refused = reverse(stack, admin, paid["id"], key="rev-1")
    # Then it is refused (bob may spend only 10), and a repeat with the key answers the same
    assert (refused.status, refused.body["code"]) == (422, "operation_failed")
    repeated = reverse(stack, admin, paid["id"], key="rev-1")
    assert (repeated.status, repeated.body["detail"]) == (422, refused.body["detail"])
    assert ledger_balances(postgres) == {None: -100, alice.entity_id: 70, bob.entity_id: 30}


@pytest.mark.parametrize("kind", ["issue", "redeem", "capture", "distribution"])
def test_a_reversal_returns_value_the_way_it_came_for_every_kind(stack: StreamDriver, postgres: str, kind: str) -> None:
    from tests.integration.social_support import carbon, new_group

    # Given a transfer of the kind: alice is the payer (or the issue's holder, the redemption's redeemer)
    admin, alice, bob = person(stack, ADMIN), person(stack), person(stack)
    new_asset(stack, admin)
    issued = issue(stack, admin, alice, 100).body
    if kind == "issue":
        original = issued
    elif kind == "redeem":
        original = redeem(stack, alice, 40).body
    elif kind == "capture":
        original = capture(stack, bob, hold(stack, alice, bob, 40).body["id"]).body
    else:
        group = new_group(stack, alice)
        assert carbon(stack, "POST", f"/v1/groups/{group['id']}/join", bob).status == 201
        body = {"asset": "USD", "amount_each": 40}
        paid = carbon(
            stack, "POST", f"/v1/groups/{group['id']}/distribute", alice, body=body, headers={"Idempotency-Key": "d"}
        )
        assert paid.status == 201, paid.body
        original = read("/v1/wallets/me/transfers", bob).body["items"][0]
    assert original["kind"] == kind
    # When an admin reverses it
    undone = reverse(stack, admin, original["id"])
    # Then the amount goes back from the recipient to the sender (the issuer side for an issue,
    # the redeemer for a redemption), and value is conserved
    assert undone.status == 201, undone.body
    assert (undone.body["from"], undone.body["to"]) == (original["to"], original["from"])
    expected = {"issue": (0, 0), "redeem": (100, 0), "capture": (100, 0), "distribution": (100, 0)}[kind]
    assert (available(alice), available(bob)) == expected
    assert_ledger_consistent(postgres)
