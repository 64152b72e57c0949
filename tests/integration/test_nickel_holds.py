"""Nickel's holds through the real handlers: place, capture, void, expiry, and the reads of them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fluorine import sweeper
from tests.integration.nickel_support import (
    UNKNOWN,
    assert_ledger_consistent,
    capture,
    hold,
    issue,
    let_expire,
    new_asset,
    nickel,
    pay,
    void,
)
from tests.integration.social_support import deactivate, person, read
from tests.support.events import FakeContext
from tests.support.streams import StreamDriver

ADMIN = frozenset({"admin"})


def balance(caller: Any, code: str = "USD") -> dict[str, int]:
    """The caller's balance of ``code`` as ``GET /v1/wallets/me`` answers it (without the asset's name)."""
    answer = read("/v1/wallets/me", caller)
    assert answer.status == 200, answer.body
    found = [b for b in answer.body["balances"] if b["asset"] == code]
    return {k: v for k, v in found[0].items() if k in {"amount", "held", "available"}} if found else {}


def funded(stack: StreamDriver, amount: int = 100) -> tuple[Any, Any, Any]:
    """An admin, a payer holding ``amount`` USD, and a payee."""
    admin, payer, payee = person(stack, ADMIN), person(stack), person(stack)
    new_asset(stack, admin)
    assert issue(stack, admin, payer, amount).status == 201
    return admin, payer, payee


def test_a_hold_reserves_value_the_payer_still_owns_and_a_partial_capture_releases_the_rest(
    stack: StreamDriver, postgres: str
) -> None:
    # Given a payer with 100 and a hold of 60 for a payee
    _, alice, bob = funded(stack)
    placed = hold(stack, alice, bob, 60, memo="deposit")
    assert placed.status == 201, placed.body
    assert placed.header("X-Write-Version")
    state = placed.body
    assert set(state) == {
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
    assert (state["from"], state["to"], state["amount"], state["memo"]) == (
        str(alice.entity_id),
        str(bob.entity_id),
        60,
        "deposit",
    )
    assert (state["status"], state["captured"]) == ("pending", 0)
    lifetime = datetime.fromisoformat(state["expires_at"]) - datetime.fromisoformat(state["created_at"])
    assert lifetime.total_seconds() == 86_400
    # Then the payer still owns 100 but may spend only 40
    assert balance(alice) == {"amount": 100, "held": 60, "available": 40}
    assert pay(stack, alice, bob, 41).status == 422
    # When the payee captures 45 of it
    taken = capture(stack, bob, state["id"], 45)
    # Then a capture transfer moves 45 from payer to payee, and the other 15 are released
    assert taken.status == 201, taken.body
    assert (taken.body["kind"], taken.body["amount"], taken.body["memo"]) == ("capture", 45, "deposit")
    assert (taken.body["from"], taken.body["to"]) == (str(alice.entity_id), str(bob.entity_id))
    assert balance(alice) == {"amount": 55, "held": 0, "available": 55}
    assert balance(bob) == {"amount": 45, "held": 0, "available": 45}
    for party in (alice, bob):
        seen = read(f"/v1/holds/{state['id']}", party)
        assert seen.status == 200
        assert (seen.body["status"], seen.body["captured"], seen.body["amount"]) == ("captured", 45, 60)
    assert read("/v1/wallets/me/transfers", bob).body["items"] == [taken.body]
    assert_ledger_consistent(postgres)


def test_a_capture_takes_the_whole_hold_by_default_and_never_more_than_it(stack: StreamDriver, postgres: str) -> None:
    # Given a hold of 30
    _, alice, bob = funded(stack)
    hold_id = hold(stack, alice, bob, 30).body["id"]
    # When the payee asks for more than the hold, then for no amount
    too_much = capture(stack, bob, hold_id, 31)
    whole = capture(stack, bob, hold_id)
    # Then the first is refused and changes nothing, the second takes all 30
    assert (too_much.status, too_much.body["code"]) == (422, "operation_failed")
    assert (whole.status, whole.body["amount"]) == (201, 30)
    assert balance(alice) == {"amount": 70, "held": 0, "available": 70}
    again = capture(stack, bob, hold_id, 1)
    assert (again.status, again.body["code"]) == (422, "operation_failed")
    # And a capture with no body at all takes the whole hold too
    other = hold(stack, alice, bob, 20).body["id"]
    bare = nickel(stack, "POST", f"/v1/holds/{other}/capture", bob, headers={"Idempotency-Key": "bare"})
    assert (bare.status, bare.body["amount"]) == (201, 20)
    assert balance(alice) == {"amount": 50, "held": 0, "available": 50}
    assert_ledger_consistent(postgres)


def test_only_the_payee_captures_either_party_voids_and_strangers_see_no_hold(
    stack: StreamDriver, postgres: str
) -> None:
    # Given a hold, and someone who is neither party
    _, alice, bob = funded(stack)
    carol = person(stack)
    hold_id = hold(stack, alice, bob, 25).body["id"]
    # When the payer tries to capture it and a stranger to capture, void or read it
    # Then the payer is forbidden and the stranger is told there is no such hold
    assert capture(stack, alice, hold_id).status == 403
    for answer in (capture(stack, carol, hold_id), void(stack, carol, hold_id), read(f"/v1/holds/{hold_id}", carol)):
        assert (answer.status, answer.body["code"]) == (404, "not_found")
    for answer in (capture(stack, bob, UNKNOWN), read(f"/v1/holds/{UNKNOWN}", bob), read("/v1/holds/not-an-id", bob)):
        assert answer.status == 404
    # When the payee voids it
    voided = void(stack, bob, hold_id)
    # Then it is voided, everything is released, and nothing can resolve it again
    assert voided.status == 200, voided.body
    assert (voided.body["status"], voided.body["captured"]) == ("voided", 0)
    assert voided.header("X-Write-Version")
    assert balance(alice) == {"amount": 100, "held": 0, "available": 100}
    for answer in (void(stack, alice, hold_id), capture(stack, bob, hold_id)):
        assert (answer.status, answer.body["code"]) == (422, "operation_failed")
    # And the payer may void a hold of its own too
    other = hold(stack, alice, bob, 10).body["id"]
    assert void(stack, alice, other).body["status"] == "voided"
    assert_ledger_consistent(postgres)


def test_a_hold_needs_available_value_a_known_payee_and_asset_a_key_and_a_lifetime_in_bounds(
    stack: StreamDriver,
) -> None:
    # Given a payer with 100, 70 of it already held
    admin, alice, bob = funded(stack)
    gone = person(stack)
    deactivate(stack, gone)
    assert hold(stack, alice, bob, 70).status == 201
    # When holds are asked for that the contract refuses
    refusals = [
        (hold(stack, alice, bob, 31), 422),
        (hold(stack, alice, alice, 1), 422),
        (hold(stack, bob, alice, 1), 422),  # holds nothing
        (hold(stack, alice, UNKNOWN, 1), 404),
        (hold(stack, alice, gone, 1), 404),
        (hold(stack, alice, admin, 1, code="NOPE"), 404),
        (hold(stack, alice, bob, 1, expires_in=59), 400),
        (hold(stack, alice, bob, 1, expires_in=604_801), 400),
        (hold(stack, alice, bob, "1"), 400),
        (nickel(stack, "POST", "/v1/holds", alice, body={"to": str(bob.entity_id), "asset": "USD", "amount": 1}), 400),
    ]
    # Then each is refused with its status, and only the first hold reserves anything
    assert [answer.status for answer, _ in refusals] == [status for _, status in refusals]
    assert balance(alice) == {"amount": 100, "held": 70, "available": 30}
    shortest = hold(stack, alice, bob, 30, expires_in=60)
    assert shortest.status == 201
    lifetime = datetime.fromisoformat(shortest.body["expires_at"]) - datetime.fromisoformat(shortest.body["created_at"])
    assert lifetime.total_seconds() == 60


def test_a_repeated_hold_or_capture_with_its_key_answers_the_first_answer_once(
    stack: StreamDriver, postgres: str
) -> None:
    # Given a hold placed and captured, each with a key
    _, alice, bob = funded(stack)
    first = hold(stack, alice, bob, 40, key="h-1")
    taken = capture(stack, bob, first.body["id"], 10, key="c-1")
    # When both are repeated with their keys (and the hold's key with another body)
    # Then the first answers come back, nothing moves twice, and another body is a conflict
    assert hold(stack, alice, bob, 40, key="h-1").body == first.body
    assert capture(stack, bob, first.body["id"], 10, key="c-1").body == taken.body
    assert hold(stack, alice, bob, 41, key="h-1").status == 409
    assert balance(alice) == {"amount": 90, "held": 0, "available": 90}
    assert_ledger_consistent(postgres)


def test_no_capture_or_void_after_expires_at_and_the_sweeper_expires_the_hold_within_its_run(
    stack: StreamDriver, postgres: str
) -> None:
    # Given two holds, one of which reached its expires_at, and the sweeper has not run yet
    _, alice, bob = funded(stack)
    due = hold(stack, alice, bob, 30).body["id"]
    live = hold(stack, alice, bob, 20).body["id"]
    let_expire(postgres, due)
    # When the payee captures it, or either party voids it
    # Then it is refused: it expired, whether or not it was marked so
    for answer in (capture(stack, bob, due), void(stack, alice, due), void(stack, bob, due)):
        assert (answer.status, answer.body["code"]) == (422, "operation_failed")
    assert read(f"/v1/holds/{due}", alice).body["status"] == "pending"
    # When the sweeper runs (every minute)
    swept = sweeper.handler({}, FakeContext())
    stack.drain()
    # Then the due hold is expired and released, published by the sweeper itself, and the other is untouched
    assert swept["expired_holds"] == 1
    assert (read(f"/v1/holds/{due}", bob).body["status"], read(f"/v1/holds/{live}", bob).body["status"]) == (
        "expired",
        "pending",
    )
    assert balance(alice) == {"amount": 100, "held": 20, "available": 80}
    assert sweeper.handler({}, FakeContext())["expired_holds"] == 0
    assert_ledger_consistent(postgres)


def test_the_caller_lists_its_holds_by_role_and_status_newest_first_in_pages(stack: StreamDriver) -> None:
    # Given alice holding for bob twice and bob holding for alice once; one of alice's is captured
    _, alice, bob = funded(stack)
    assert pay(stack, alice, bob, 20).status == 201
    first = hold(stack, alice, bob, 10).body
    second = hold(stack, alice, bob, 11).body
    third = hold(stack, bob, alice, 12).body
    assert capture(stack, bob, first["id"]).status == 201

    def page(caller: Any, **query: str) -> dict[str, Any]:
        answer = read("/v1/holds", caller, query=query)
        assert answer.status == 200, answer.body
        return answer.body  # type: ignore[no-any-return]

    def ids(caller: Any, **query: str) -> list[str]:
        return [h["id"] for h in page(caller, **query)["items"]]

    # Then each list has the holds it names, newest first
    assert ids(alice) == [third["id"], second["id"], first["id"]]
    assert ids(alice, role="payer") == [second["id"], first["id"]]
    assert ids(alice, role="payee") == [third["id"]]
    assert ids(alice, status="pending") == [third["id"], second["id"]]
    assert ids(alice, role="payer", status="captured") == [first["id"]]
    assert ids(bob, role="payee", status="pending") == [second["id"]]
    assert ids(alice, status="voided") == []
    # And pages follow their cursors, which belong to their own list only
    one = page(alice, role="payer", limit="1")
    assert [h["id"] for h in one["items"]] == [second["id"]]
    rest = page(alice, role="payer", limit="1", cursor=one["next_cursor"])
    assert ([h["id"] for h in rest["items"]], rest["next_cursor"]) == ([first["id"]], None)
    assert read("/v1/holds", alice, query={"role": "payee", "cursor": one["next_cursor"]}).status == 400
    for bad in ({"role": "owner"}, {"status": "open"}, {"limit": "0"}, {"limit": "101"}):
        assert read("/v1/holds", alice, query=bad).status == 400, bad


def test_the_payee_is_told_of_a_capture_by_a_system_message(stack: StreamDriver) -> None:
    from rhenium.trigger import handler

    # Given a hold, and the trigger reading the change feed from its start
    _, alice, bob = funded(stack)
    driver = StreamDriver()
    hold_id = hold(stack, alice, bob, 30).body["id"]
    # When the payee captures it and the trigger sees the feed
    assert capture(stack, bob, hold_id, 25).status == 201
    assert handler({"Records": driver.records()}, FakeContext()) == {"batchItemFailures": []}
    stack.drain()
    # Then the payee's inbox has a system message of the capture (and the payer's only the issue's)
    inbox = read("/v1/messages/inbox", bob).body["items"]
    assert [(m["from"], "25 USD" in m["body"], "capture" in m["body"]) for m in inbox] == [(None, True, True)]
    assert all("capture" not in m["body"] for m in read("/v1/messages/inbox", alice).body["items"])


def test_hold_projections_are_version_conditional_and_verify_covers_them(stack: StreamDriver) -> None:
    from fluorine import db
    from francium import cache, maintenance, projector
    from shared.aws import dynamodb
    from shared.contracts.changes import ChangeRecord

    # Given a hold placed and captured (the change feed settled: the capture's system message too),
    # its events read back from the outbox
    _, alice, bob = funded(stack)
    hold_id = hold(stack, alice, bob, 30).body["id"]
    assert capture(stack, bob, hold_id, 10).status == 201
    stack.settle()
    assert maintenance.verify()["count"] == 0
    rows = db.connection().execute(
        "SELECT seq, aggregate, version, event_type, payload, occurred_at FROM outbox WHERE aggregate = %s"
        " ORDER BY version",
        (f"hold#{hold_id}",),
    )
    placed, captured = [
        ChangeRecord(seq=r[0], aggregate=r[1], version=r[2], event_type=r[3], payload=r[4], occurred_at=r[5])
        for r in rows.fetchall()
    ]
    db.connection().rollback()
    assert (placed.event_type, captured.event_type) == ("HoldPlaced", "HoldCaptured")
    # When the placement is delivered again, late, after the capture
    assert projector.apply(placed) == 0
    # Then nothing regresses: the hold is captured and out of the pending lists
    assert read(f"/v1/holds/{hold_id}", alice).body["status"] == "captured"
    assert read("/v1/holds", bob, query={"status": "pending"}).body["items"] == []
    # When the payee's list item is lost, verify reports it and rebuild puts it back
    key = {"pk": {"S": f"hold#{hold_id}"}, "sk": {"S": f"payee#{bob.entity_id}"}}
    dynamodb().delete_item(TableName=cache.table(), Key=key)
    found = maintenance.verify()
    assert (found["count"], found["drift"][0]["pk"], found["drift"][0]["kind"]) == (1, f"hold#{hold_id}", "missing")
    maintenance.rebuild()
    assert maintenance.verify()["count"] == 0
    assert [h["id"] for h in read("/v1/holds", bob, query={"role": "payee"}).body["items"]] == [hold_id]
