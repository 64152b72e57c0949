"""Holds and reversals in PostgreSQL: the database's own guards, and races on one hold and on one balance."""

from __future__ import annotations

import random
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest

from fluorine import bus, db
from shared.contracts.changes import Idempotency
from shared.contracts.nickel import CreateAsset, IssueAsset, PostTransfer, ReverseTransfer
from shared.contracts.nickel_holds import CaptureHold, ExpireHolds, PlaceHold, VoidHold
from shared.errors import AppError
from shared.internal import Actor
from tests.integration.nickel_support import assert_ledger_consistent, expire_in, let_expire
from tests.support.factories import act, register_entity, start_session


def entities(n: int) -> list[uuid.UUID]:
    return [register_entity()[0].id for _ in range(n)]


def funded(holders: dict[uuid.UUID, int]) -> None:
    act(CreateAsset(code="USD", name="Dollar", scale=2))
    for holder, amount in holders.items():
        act(IssueAsset(id=uuid.uuid4(), asset="USD", to=holder, amount=amount))


def place(payer: uuid.UUID, payee: uuid.UUID, amount: int) -> dict[str, Any]:
    return act(PlaceHold(id=uuid.uuid4(), from_entity=payer, to=payee, asset="USD", amount=amount)).result


def sql(url: str, statement: str, params: Any = None) -> None:
    with psycopg.connect(url) as conn:
        conn.execute(statement, params)


def test_held_value_changes_only_through_holds_and_never_exceeds_the_balance(postgres: str) -> None:
    # Given alice with 10, 6 of it held for bob
    alice, bob = entities(2)
    funded({alice: 10})
    hold = place(alice, bob, 6)
    # When SQL edits held directly, or inserts a hold beyond what is available, or deletes a hold
    with psycopg.connect(postgres) as conn:
        account = conn.execute("SELECT id FROM ledger_accounts WHERE owner_id = %s", (alice,)).fetchone()
    assert account is not None
    with pytest.raises(psycopg.errors.RestrictViolation):
        sql(postgres, "UPDATE ledger_accounts SET held = 0")
    with pytest.raises(psycopg.errors.CheckViolation):
        sql(
            postgres,
            "INSERT INTO holds (id, asset, debit_account, from_entity, to_entity, amount, expires_at)"
            " VALUES (%s, 'USD', %s, %s, %s, 5, now() + interval '1 hour')",
            (uuid.uuid4(), account[0], alice, bob),
        )
    with pytest.raises(psycopg.errors.RestrictViolation):
        sql(postgres, "DELETE FROM holds")
    # And a transfer spends more than the 4 available, even without the Python checks
    with pytest.raises(psycopg.errors.CheckViolation):
        sql(
            postgres,
            "INSERT INTO transfers (id, asset, debit_account, credit_account, amount, kind)"
            " SELECT %s, 'USD', %s, id, 5, 'transfer' FROM ledger_accounts WHERE owner_id IS NULL",
            (uuid.uuid4(), account[0]),
        )
    # Then every one is refused, and the hold still reserves its 6
    with psycopg.connect(postgres) as conn:
        assert conn.execute("SELECT balance, held FROM ledger_accounts WHERE id = %s", account).fetchone() == (10, 6)
        assert conn.execute("SELECT status FROM holds WHERE id = %s", (hold["id"],)).fetchone() == ("pending",)
    assert_ledger_consistent(postgres)


def test_a_hold_resolves_once_never_captured_after_expires_at_nor_expired_before(postgres: str) -> None:
    # Given a captured hold, a pending one and a pending one past its expires_at
    alice, bob = entities(2)
    funded({alice: 100})
    done, pending, due = place(alice, bob, 10), place(alice, bob, 20), place(alice, bob, 30)
    act(CaptureHold(id=uuid.uuid4(), hold_id=done["id"], payee=bob))
    let_expire(postgres, due["id"])
    resolving = "UPDATE holds SET status = %s, captured = %s WHERE id = %s"
    # When SQL resolves them again or out of time, changes a hold's terms, or posts a capture that is not its hold's
    refused = [
        (resolving, ("voided", 0, done["id"])),
        (resolving, ("expired", 0, pending["id"])),
        (resolving, ("captured", 30, due["id"])),
        (resolving, ("voided", 0, due["id"])),
        ("UPDATE holds SET amount = 1 WHERE id = %s", (pending["id"],)),
        ("UPDATE holds SET status = 'voided', to_entity = %s WHERE id = %s", (alice, pending["id"])),
        (
            "INSERT INTO transfers (id, asset, debit_account, credit_account, amount, kind, hold_id)"
            " SELECT %s, 'USD', h.debit_account, c.id, 20, 'capture', h.id FROM holds h"
            " JOIN ledger_accounts c ON c.owner_id = h.to_entity WHERE h.id = %s",
            (uuid.uuid4(), pending["id"]),
        ),
    ]
    for statement, params in refused:
        with pytest.raises(psycopg.errors.RestrictViolation):
            sql(postgres, statement, params)
    # Then a capture needs its hold, and a hold's statuses are as they were
    with pytest.raises(psycopg.errors.CheckViolation):
        sql(
            postgres,
            "INSERT INTO transfers (id, asset, debit_account, credit_account, amount, kind)"
            " SELECT %s, 'USD', d.id, c.id, 1, 'capture' FROM ledger_accounts d, ledger_accounts c"
            " WHERE d.owner_id = %s AND c.owner_id = %s",
            (uuid.uuid4(), alice, bob),
        )
    with psycopg.connect(postgres) as conn:
        statuses = dict(conn.execute("SELECT id, status FROM holds").fetchall())
    assert [statuses[uuid.UUID(h["id"])] for h in (done, pending, due)] == ["captured", "pending", "pending"]
    assert_ledger_consistent(postgres)


def test_a_transfer_has_at_most_one_reversal_and_a_reversal_none_even_without_the_python_checks(
    postgres: str,
) -> None:
    # Given a payment and its reversal
    alice, bob = entities(2)
    funded({alice: 100})
    paid = act(PostTransfer(id=uuid.uuid4(), from_entity=alice, to=bob, asset="USD", amount=30)).result
    undone = act(ReverseTransfer(id=uuid.uuid4(), transfer_id=paid["id"], reason="twice")).result
    mirror = (
        "INSERT INTO transfers (id, asset, debit_account, credit_account, amount, kind, reverses)"
        " SELECT %s, t.asset, t.credit_account, t.debit_account, t.amount, 'reversal', t.id FROM transfers t"
        " WHERE t.id = %s"
    )
    # When SQL posts a second reversal of the payment, or a reversal of the reversal
    with pytest.raises(psycopg.errors.UniqueViolation):
        sql(postgres, mirror, (uuid.uuid4(), paid["id"]))
    with pytest.raises(psycopg.errors.RestrictViolation):
        sql(postgres, mirror, (uuid.uuid4(), undone["id"]))
    # Or a reversal that does not mirror its transfer
    with pytest.raises(psycopg.errors.RestrictViolation):
        sql(
            postgres,
            "INSERT INTO transfers (id, asset, debit_account, credit_account, amount, kind, reverses)"
            " SELECT %s, t.asset, t.credit_account, t.debit_account, 1, 'reversal', t.id FROM transfers t"
            " WHERE t.kind = 'issue'",
            (uuid.uuid4(),),
        )
    # Then the journal has the one reversal only
    with psycopg.connect(postgres) as conn:
        assert conn.execute("SELECT count(*) FROM transfers WHERE kind = 'reversal'").fetchone() == (1,)
    assert_ledger_consistent(postgres)


def attempt(command: Any, actor: Actor | None) -> str:
    """Run ``command`` for ``actor``: ``won`` (or the number of holds an expiry resolved) or the refusal's code."""
    try:
        outcome = bus.execute(command.model_dump(mode="json"), actor=actor)
    except AppError as exc:
        return exc.code
    if command.command == "expire_holds":
        return f"expired {outcome.result['expired']}"
    return "won"


def race_on_one_hold(postgres: str, payer: uuid.UUID, payee: uuid.UUID, due_in_ms: int) -> tuple[Counter[str], str]:
    """Capture, void (by both parties) and expire one hold at once, around its expires_at; the answers
    and the hold's final status."""
    hold = place(payer, payee, 10)
    payer_actor, payee_actor = start_session(payer)[0], start_session(payee)[0]
    expire_in(postgres, hold["id"], due_in_ms / 1000)
    contenders: list[tuple[Any, Actor | None]] = [
        *[(CaptureHold(id=uuid.uuid4(), hold_id=hold["id"], payee=payee, amount=7), payee_actor)] * 3,
        (VoidHold(hold_id=hold["id"], by=payer), payer_actor),
        (VoidHold(hold_id=hold["id"], by=payee), payee_actor),
        *[(ExpireHolds(), None)] * 3,
    ]
    start = threading.Barrier(len(contenders))

    def run(contender: tuple[Any, Actor | None]) -> str:
        start.wait()
        command, actor = contender
        if command.command == "capture_hold":  # a new transfer id for each attempt
            command = command.model_copy(update={"id": uuid.uuid4()})
        try:
            return attempt(command, actor)
        finally:
            db.close()  # this thread's connection

    with ThreadPoolExecutor(max_workers=len(contenders)) as pool:
        answers = Counter(pool.map(run, contenders))
    if answers["won"] == 0 and not any(a.startswith("expired 1") for a in answers):
        answers["swept later"] += int(act(ExpireHolds()).result["expired"])  # every racer was early or refused
    with psycopg.connect(postgres) as conn:
        row = conn.execute("SELECT status FROM holds WHERE id = %s", (hold["id"],)).fetchone()
    assert row is not None
    return answers, row[0]


# The racers start some tens of milliseconds after the hold's expires_at is set: 0 is always past
# it, an hour never, and in between each of capture, void and expiry wins some of the time.
@pytest.mark.parametrize("due_in_ms", [0, 50, 80, 3_600_000])
def test_capture_void_and_expiry_racing_on_one_hold_have_exactly_one_winner(postgres: str, due_in_ms: int) -> None:
    # Given a payer and a payee, and holds whose expires_at falls among racing commands (or long after)
    alice, bob = entities(2)
    funded({alice: 1_000})
    outcomes = []
    for _ in range(4):
        # When three captures, a void by each party and three expiries race on one hold
        answers, status = race_on_one_hold(postgres, alice, bob, due_in_ms)
        # Then exactly one of them resolved it, and its status says which kind won
        winners = answers["won"] + answers["expired 1"] + answers["swept later"]
        assert winners == 1, answers
        assert set(answers) <= {"won", "operation_failed", "expired 0", "expired 1", "swept later"}, answers
        assert (status == "expired") == (answers["expired 1"] + answers["swept later"] == 1), (answers, status)
        outcomes.append(status)
    # And no value was taken twice: at most one capture per hold, 7 each, and the ledger replays
    with psycopg.connect(postgres) as conn:
        captures = conn.execute(
            "SELECT count(*), count(DISTINCT hold_id), sum(amount) FROM transfers WHERE kind = 'capture'"
        )
        count, distinct, total = captures.fetchone() or (0, 0, 0)
        balances = dict(conn.execute("SELECT owner_id, balance FROM ledger_accounts WHERE owner_id IS NOT NULL"))
    assert count == distinct == outcomes.count("captured")
    assert (total or 0) == 7 * count
    assert (balances[alice], balances.get(bob, 0)) == (1_000 - 7 * count, 7 * count)
    if due_in_ms == 0:
        assert set(outcomes) == {"expired"}  # due before anyone started: only the expiry may win
    # And each hold was resolved on the side of its expires_at its outcome allows
    with psycopg.connect(postgres) as conn:
        sides = conn.execute("SELECT status, resolved_at < expires_at FROM holds").fetchall()
    assert all(early == (status != "expired") for status, early in sides), sides
    assert_ledger_consistent(postgres)


def test_many_holds_and_transfers_against_one_balance_never_reserve_more_than_it_holds(postgres: str) -> None:
    # Given alice with 1,000 and three payees
    alice, *payees = entities(4)
    funded({alice: 1_000})
    actor = start_session(alice)[0]

    def hammer(thread: int) -> tuple[int, int]:
        """Place holds (and now and then pay) from alice's one balance; (amount reserved or paid, refusals)."""
        rng = random.Random(thread)
        taken = refused = 0
        for n in range(20):
            amount, payee = rng.randint(1, 40), rng.choice(payees)
            if n % 5 == 4:
                key = Idempotency(caller_id=str(alice), key=f"t{thread}-{n}", fingerprint="f")
                command: Any = PostTransfer(id=uuid.uuid4(), from_entity=alice, to=payee, asset="USD", amount=amount)
                command.idempotency = key
            else:
                command = PlaceHold(id=uuid.uuid4(), from_entity=alice, to=payee, asset="USD", amount=amount)
            answer = attempt(command, actor)
            assert answer in {"won", "operation_failed"}, answer
            taken, refused = (taken + amount, refused) if answer == "won" else (taken, refused + 1)
        db.close()
        return taken, refused

    # When 16 threads hold and pay from it at once, far more than it has
    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(hammer, range(16)))
    # Then what was reserved or paid never passed the balance: some were refused, the rest is there
    taken, refused = sum(t for t, _ in outcomes), sum(r for _, r in outcomes)
    assert refused > 0
    assert taken <= 1_000
    with psycopg.connect(postgres) as conn:
        row = conn.execute("SELECT balance, held FROM ledger_accounts WHERE owner_id = %s", (alice,)).fetchone()
        pending = conn.execute("SELECT coalesce(sum(amount), 0) FROM holds WHERE status = 'pending'").fetchone()
    assert row is not None
    assert pending is not None
    balance, held = row
    assert held == pending[0]
    assert balance - held == 1_000 - taken >= 0
    assert_ledger_consistent(postgres)


def test_two_requests_of_one_key_place_one_hold_and_capture_it_once(postgres: str) -> None:
    """Both requests find the key free (0027 writes it once, at the end) and queue on the same
    rows: the second placing finds the key taken when it claims it, the second capture finds the
    hold captured; each is answered the first's answer."""
    import time

    alice, bob = entities(2)
    funded({alice: 100})

    def twice(command: Any, lock: tuple[str, Any]) -> list[Any]:
        answers: list[Any] = []

        def attempt() -> None:
            try:
                answers.append(act(command.model_copy(update={"id": uuid.uuid4()})).result)
            except AppError as exc:
                answers.append(exc.code)
            finally:
                db.close()

        with psycopg.connect(postgres) as holder:  # holds the row both need while they start
            holder.execute(lock[0], lock[1])
            threads = [threading.Thread(target=attempt) for _ in range(2)]
            for thread in threads:
                thread.start()
            time.sleep(1.0)  # both are waiting, past their check of the key
            holder.rollback()
        for thread in threads:
            thread.join()
        return answers

    key = Idempotency(caller_id=str(alice), key="hold-raced", fingerprint="f")
    placing = PlaceHold(id=uuid.uuid4(), from_entity=alice, to=bob, asset="USD", amount=30, idempotency=key)
    placed = twice(placing, ("SELECT 1 FROM ledger_accounts WHERE owner_id = %s FOR UPDATE", (alice,)))
    assert placed[0] == placed[1]
    assert isinstance(placed[0], dict)
    with psycopg.connect(postgres) as conn:
        assert conn.execute("SELECT count(*) FROM holds").fetchone() == (1,)  # funds for three: one placed
    hold_id = uuid.UUID(placed[0]["id"])
    key = Idempotency(caller_id=str(bob), key="capture-raced", fingerprint="f")
    capture = CaptureHold(id=uuid.uuid4(), hold_id=hold_id, payee=bob, amount=None, idempotency=key)
    captured = twice(capture, ("SELECT 1 FROM holds WHERE id = %s FOR UPDATE", (hold_id,)))
    assert captured[0] == captured[1]
    assert isinstance(captured[0], dict)
    with psycopg.connect(postgres) as conn:
        assert conn.execute("SELECT count(*) FROM transfers WHERE kind = 'capture'").fetchone() == (1,)
    assert_ledger_consistent(postgres)
