"""A stateful property test of Nickel's ledger against a plain-Python model.

Random sequences of issues, transfers, redemptions, retries with a used key and key reuse with
another body run through Fluorine's bus on real PostgreSQL; after every step the ledger must
match the model, conserve value (issued - redeemed = the sum of the balances) and hold no
balance below zero.
"""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from fluorine import db
from shared.contracts.changes import Idempotency
from shared.contracts.nickel import CreateAsset, IssueAsset, PostTransfer, RedeemAsset
from shared.errors import AppError
from tests.integration.nickel_support import assert_ledger_consistent, ledger_balances
from tests.support.factories import act, register_entity
from tests.support.postgres import truncate_all

MAX = 9_223_372_036_854_775_807
HOLDERS = 3
amounts = st.one_of(st.integers(1, 60), st.integers(MAX - 100, MAX))
holder = st.integers(0, HOLDERS - 1)


def outcome(command: Any) -> dict[str, Any] | str:
    """The command's result, or the error code it was refused with."""
    try:
        return act(command).result
    except AppError as exc:
        return exc.code


class LedgerMachine(RuleBasedStateMachine):
    url = ""

    def __init__(self) -> None:
        super().__init__()
        truncate_all(self.url)
        db.close()
        self.holders = [register_entity()[0].id for _ in range(HOLDERS)]
        outcome(CreateAsset(code="USD", name="Dollar", scale=2))
        self.balances = dict.fromkeys(self.holders, 0)
        self.supply = 0
        self.answered: dict[str, tuple[PostTransfer, dict[str, Any]]] = {}

    def idem(self, sender: uuid.UUID, key: str, command: PostTransfer) -> Idempotency:
        body = (command.to, command.amount)
        return Idempotency(caller_id=str(sender), key=key, fingerprint=str(hash(body)))

    @rule(to=holder, amount=amounts)
    def issue(self, to: int, amount: int) -> None:
        answer = outcome(IssueAsset(id=uuid.uuid4(), asset="USD", to=self.holders[to], amount=amount))
        if self.supply + amount > MAX:
            assert answer == "operation_failed"
            return
        assert isinstance(answer, dict)
        assert (answer["kind"], answer["amount"]) == ("issue", amount)
        self.supply += amount
        self.balances[self.holders[to]] += amount

    @rule(sender=holder, receiver=holder, amount=amounts)
    def transfer(self, sender: int, receiver: int, amount: int) -> None:
        source, target = self.holders[sender], self.holders[receiver]
        key = uuid.uuid4().hex
        command = PostTransfer(id=uuid.uuid4(), from_entity=source, to=target, asset="USD", amount=amount)
        command.idempotency = self.idem(source, key, command)
        answer = outcome(command)
        if source == target or self.balances[source] < amount:
            assert answer == "operation_failed"
            return
        assert isinstance(answer, dict)
        self.balances[source] -= amount
        self.balances[target] += amount
        self.answered[key] = (command, answer)

    @rule(who=holder, amount=amounts)
    def redeem(self, who: int, amount: int) -> None:
        answer = outcome(RedeemAsset(id=uuid.uuid4(), asset="USD", from_entity=self.holders[who], amount=amount))
        if self.balances[self.holders[who]] < amount:
            assert answer == "operation_failed"
            return
        assert isinstance(answer, dict)
        self.balances[self.holders[who]] -= amount
        self.supply -= amount

    @rule(data=st.data())
    def retry_with_the_same_key(self, data: st.DataObject) -> None:
        if not self.answered:
            return
        key = data.draw(st.sampled_from(sorted(self.answered)))
        command, first = self.answered[key]
        assert outcome(command.model_copy(update={"id": uuid.uuid4()})) == first

    @rule(data=st.data(), amount=amounts)
    def reuse_a_key_with_another_body(self, data: st.DataObject, amount: int) -> None:
        if not self.answered:
            return
        key = data.draw(st.sampled_from(sorted(self.answered)))
        command, _ = self.answered[key]
        if amount == command.amount:
            return
        other = command.model_copy(update={"id": uuid.uuid4(), "amount": amount})
        other.idempotency = self.idem(command.from_entity, key, other)
        assert outcome(other) == "conflict"

    @invariant()
    def the_ledger_matches_the_model_and_conserves_value(self) -> None:
        found = ledger_balances(self.url)
        assert found.pop(None) == -self.supply
        assert {h: found.get(h, 0) for h in self.holders} == self.balances
        assert sum(self.balances.values()) == self.supply
        assert_ledger_consistent(self.url)


def test_random_ledger_histories_conserve_value_and_never_overdraw(postgres: str) -> None:
    LedgerMachine.url = postgres
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=25, stateful_step_count=20, deadline=None, suppress_health_check=list(HealthCheck)
        ),
    )
