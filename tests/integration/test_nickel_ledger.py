"""Nickel's ledger in PostgreSQL: the database's own guards, distributions, and concurrent postings."""

from __future__ import annotations

import random
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest

from fluorine import bus, db
from shared.contracts.changes import Idempotency
from shared.contracts.nickel import CreateAsset, DistributeAsset, IssueAsset, PostTransfer
from shared.contracts.oxygen import DeactivateEntity
from shared.errors import AppError, Conflict, Forbidden, NotFound, OperationFailed, Unauthorized
from tests.integration.nickel_support import UNKNOWN, assert_ledger_consistent, ledger_balances
from tests.support.factories import act, register_entity, start_session


def entities(n: int) -> list[uuid.UUID]:
    return [register_entity()[0].id for _ in range(n)]


def run(command: Any) -> dict[str, Any]:
    return act(command).result


def funded(holders: dict[uuid.UUID, int], code: str = "USD") -> None:
    run(CreateAsset(code=code, name="Dollar", scale=2))
    for holder, amount in holders.items():
        run(IssueAsset(id=uuid.uuid4(), asset=code, to=holder, amount=amount))


def test_the_database_refuses_a_holder_balance_below_zero_even_without_the_python_checks(postgres: str) -> None:
    alice, bob = entities(2)
    funded({alice: 10})
    with psycopg.connect(postgres) as conn:
        ids = dict(conn.execute("SELECT owner_id, id FROM ledger_accounts").fetchall())
        bob_account = conn.execute(
            "INSERT INTO ledger_accounts (asset, owner_id) VALUES ('USD', %s) RETURNING id", (bob,)
        ).fetchone()
        conn.commit()
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute(
                "INSERT INTO transfers (id, asset, debit_account, credit_account, amount, kind)"
                " VALUES (%s, 'USD', %s, %s, 11, 'transfer')",
                (uuid.uuid4(), ids[alice], bob_account[0]),  # type: ignore[index]
            )
    assert ledger_balances(postgres) == {None: -10, alice: 10, bob: 0}


def test_balances_change_only_by_posting_and_the_journal_is_append_only(postgres: str) -> None:
    (alice,) = entities(1)
    funded({alice: 10})
    for statement in (
        "UPDATE ledger_accounts SET balance = balance + 5",
        "UPDATE transfers SET amount = 1",
        "DELETE FROM transfers",
    ):
        with psycopg.connect(postgres) as conn, pytest.raises(psycopg.errors.RestrictViolation):
            conn.execute(statement)
    assert ledger_balances(postgres) == {None: -10, alice: 10}
    assert_ledger_consistent(postgres)


def distribute(payer: uuid.UUID, recipients: list[uuid.UUID], each: int, key: str | None = None) -> dict[str, Any]:
    idem = Idempotency(caller_id=str(payer), key=key, fingerprint="f") if key else None
    command = DistributeAsset(idempotency=idem, from_entity=payer, asset="USD", amount_each=each, recipients=recipients)
    return run(command)


def test_a_distribution_pays_every_other_recipient_once_as_distribution_transfers(postgres: str) -> None:
    payer, a, b, c = entities(4)
    funded({payer: 100})
    assert distribute(payer, [a, b, payer, c, a], 10) == {"transfers": 3, "total": 30}
    assert ledger_balances(postgres) == {None: -100, payer: 70, a: 10, b: 10, c: 10}
    with psycopg.connect(postgres) as conn:
        kinds = conn.execute("SELECT kind, count(*) FROM transfers GROUP BY kind ORDER BY kind").fetchall()
        posted = conn.execute("SELECT count(*) FROM outbox WHERE event_type = 'TransferPosted'").fetchone()
    assert kinds == [("distribution", 3), ("issue", 1)]
    assert posted == (4,)
    assert_ledger_consistent(postgres)


def test_a_distribution_is_all_or_nothing(postgres: str) -> None:
    payer, a, b, c = entities(4)
    funded({payer: 29})
    with pytest.raises(OperationFailed):
        distribute(payer, [a, b, c], 10)
    with pytest.raises(NotFound):
        distribute(payer, [a, uuid.UUID(UNKNOWN)], 1)
    with pytest.raises(OperationFailed):
        distribute(payer, [a, b], 9_223_372_036_854_775_807)
    assert ledger_balances(postgres) == {None: -29, payer: 29}


def test_a_distribution_skips_deactivated_recipients_and_replays_by_key(postgres: str) -> None:
    payer, a, gone = entities(3)
    funded({payer: 100})
    from datetime import UTC, datetime

    run(DeactivateEntity(entity_id=gone, at=datetime.now(UTC)))
    first = distribute(payer, [a, gone], 10, key="d-1")
    assert first == distribute(payer, [a, gone], 10, key="d-1") == {"transfers": 1, "total": 10}
    assert ledger_balances(postgres) == {None: -100, payer: 90, a: 10}
    assert distribute(payer, [gone], 10) == {"transfers": 0, "total": 0}


def hammer(pairs: list[tuple[uuid.UUID, uuid.UUID]], key_prefix: str, per_thread: int) -> tuple[int, int]:
    """Post ``per_thread`` random transfers on one thread; (posted, refused for funds)."""
    posted = refused = 0
    rng = random.Random(key_prefix)
    for n in range(per_thread):
        sender, receiver = rng.choice(pairs)
        idem = Idempotency(caller_id=str(sender), key=f"{key_prefix}-{n}", fingerprint="f")
        command = PostTransfer(id=uuid.uuid4(), from_entity=sender, to=receiver, asset="USD", amount=rng.randint(1, 40))
        try:
            run(command.model_copy(update={"idempotency": idem}))
            posted += 1
        except OperationFailed:
            refused += 1
    db.close()
    return posted, refused


def test_sixteen_threads_posting_on_three_hot_accounts_lose_nothing_and_never_overdraw(postgres: str) -> None:
    hot = entities(3)
    funded(dict.fromkeys(hot, 300))
    pairs = [(s, r) for s in hot for r in hot if s != r]
    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(lambda t: hammer(pairs, f"t{t}", 25), range(16)))
    posted = sum(p for p, _ in outcomes)
    assert posted > 16 * 25 // 2  # the hot accounts really were contended, not idle
    assert posted + sum(r for _, r in outcomes) == 16 * 25
    with psycopg.connect(postgres) as conn:
        assert conn.execute("SELECT count(*) FROM transfers WHERE kind = 'transfer'").fetchone() == (posted,)
        assert conn.execute("SELECT sum(balance) FROM ledger_accounts WHERE owner_id IS NOT NULL").fetchone() == (900,)
    assert_ledger_consistent(postgres)


def test_contended_transfers_with_ample_funds_are_never_refused(postgres: str) -> None:
    # Given three hot accounts holding far more than sixteen threads can send
    hot = entities(3)
    funded(dict.fromkeys(hot, 16 * 25 * 40))
    pairs = [(s, r) for s in hot for r in hot if s != r]

    # When the threads post on them at once (each waits for the row locks of the ones before it)
    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(lambda t: hammer(pairs, f"a{t}", 25), range(16)))

    # Then every one posts: a row locked after waiting is read as it is now, not missed
    assert [refused for _, refused in outcomes] == [0] * 16
    assert_ledger_consistent(postgres)


def test_a_keyed_posting_by_a_caller_without_the_authority_is_refused_before_its_key_is_claimed(
    postgres: str,
) -> None:
    # Given a funded payer whose login session then ends, and a holder who is no admin
    alice, bob = entities(2)
    funded({alice: 100})
    ended, _ = start_session(alice)
    with psycopg.connect(postgres, autocommit=True) as conn:
        conn.execute("UPDATE auth_sessions SET revoked_at = now() WHERE id = %s", (ended.session_id,))
    key = Idempotency(caller_id=str(alice), key="after-logout", fingerprint="f")
    transfer = PostTransfer(id=uuid.uuid4(), from_entity=alice, to=bob, asset="USD", amount=5, idempotency=key)
    bobs_key = Idempotency(caller_id=str(bob), key="not-an-admin", fingerprint="f")
    issue = IssueAsset(id=uuid.uuid4(), asset="USD", to=bob, amount=5, idempotency=bobs_key)

    # When they post with keys (the one-statement path, gated by the caller check)
    with pytest.raises(Unauthorized):
        bus.execute(transfer.model_dump(mode="json"), actor=ended)
    with pytest.raises(Forbidden):
        bus.execute(issue.model_dump(mode="json"), actor=start_session(bob)[0])

    # Then nothing was posted nor any key kept: signed in again, the same key posts once
    assert ledger_balances(postgres) == {None: -100, alice: 100}
    assert run(transfer)["amount"] == 5
    assert ledger_balances(postgres) == {None: -100, alice: 95, bob: 5}


def test_concurrent_retries_of_one_key_post_once_and_all_answer_the_same(postgres: str) -> None:
    alice, bob = entities(2)
    funded({alice: 100})
    idem = Idempotency(caller_id=str(alice), key="same", fingerprint="f")
    command = PostTransfer(id=uuid.uuid4(), from_entity=alice, to=bob, asset="USD", amount=60, idempotency=idem)

    def attempt(_: int) -> dict[str, Any] | str:
        try:
            return run(command.model_copy(update={"id": uuid.uuid4()}))
        except AppError as exc:
            return exc.code
        finally:
            db.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(attempt, range(8)))
    assert all(a == answers[0] for a in answers)
    assert isinstance(answers[0], dict)
    assert ledger_balances(postgres) == {None: -100, alice: 40, bob: 60}
    other = command.model_copy(update={"idempotency": idem.model_copy(update={"fingerprint": "g"})})
    with pytest.raises(Conflict):
        run(other)


def test_two_requests_of_one_key_that_both_find_it_free_post_once(postgres: str) -> None:
    """Both check the key before either posts (0027 writes it once, at the end), then queue on the
    payer's account: the second finds the key taken when it claims it, and is answered the first's
    answer, its own posting rolled back whole."""
    import threading
    import time

    alice, bob = entities(2)
    funded({alice: 100})
    idem = Idempotency(caller_id=str(alice), key="raced", fingerprint="f")
    command = PostTransfer(id=uuid.uuid4(), from_entity=alice, to=bob, asset="USD", amount=30, idempotency=idem)
    answers: list[dict[str, Any] | str] = []

    def attempt() -> None:
        try:
            answers.append(run(command.model_copy(update={"id": uuid.uuid4()})))
        except AppError as exc:
            answers.append(exc.code)
        finally:
            db.close()

    with psycopg.connect(postgres) as holder:  # holds alice's account while both requests start
        holder.execute("SELECT 1 FROM ledger_accounts WHERE owner_id = %s FOR UPDATE", (alice,))
        threads = [threading.Thread(target=attempt) for _ in range(2)]
        for thread in threads:
            thread.start()
        time.sleep(1.0)  # both are waiting for the account, past their check of the key
        holder.rollback()
    for thread in threads:
        thread.join()
    assert len(answers) == 2
    assert answers[0] == answers[1]
    assert isinstance(answers[0], dict)
    assert ledger_balances(postgres) == {None: -100, alice: 70, bob: 30}  # funds for two: one posted
    with psycopg.connect(postgres) as conn:
        assert conn.execute("SELECT count(*) FROM transfers WHERE kind = 'transfer'").fetchone() == (1,)


def test_a_large_distribution_answers_a_small_write_version_naming_the_payers_wallet(postgres: str) -> None:
    from shared import write_versions
    from shared.contracts.nickel import wallet_aggregate

    # Given a payer and 60 recipients (120 changed aggregates: a transfer and a wallet each)
    payer, *recipients = entities(61)
    funded({payer: 1_000})
    # When the payer distributes to all of them
    outcome = act(DistributeAsset(from_entity=payer, asset="USD", amount_each=1, recipients=recipients))
    # Then the token stays header-sized and covers the payer's wallet, then the first 15 payees'
    assert len([r for r in outcome.records if r.aggregate_type != "session"]) == 121
    token = outcome.write_version or ""
    assert len(token) < 1600
    named = [v.aggregate for v in write_versions.verify(token, payer)]
    assert named == [wallet_aggregate(e, "USD") for e in [payer, *sorted(recipients)[:15]]]
