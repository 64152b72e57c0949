"""Faults on the way from a committed transfer to its recipient's system message (Rhenium's trigger,
driven by hand from the change feed's stream records: moto cannot run Lambda code)."""

from __future__ import annotations

import copy
import json
import random
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest

from fluorine import db
from fluorine.sweeper import sweep
from francium import maintenance
from infra.local import streams
from rhenium import trigger
from shared.context import Caller
from shared.contracts.nickel import PostTransfer
from tests.integration.nickel_support import issue, new_asset, pay
from tests.integration.social_support import person
from tests.support.factories import act
from tests.support.streams import StreamDriver, event_source_mapping


def paid(stack: StreamDriver, payees: int) -> tuple[Caller, list[Caller]]:
    """A holder who paid each of ``payees`` people (the projector saw it all, the trigger nothing yet)."""
    admin, holder = person(stack, frozenset({"admin"})), person(stack)
    new_asset(stack, admin, "USD")
    assert issue(stack, admin, holder, 1_000).status == 201
    people = [person(stack) for _ in range(payees)]
    for n, payee in enumerate(people, start=1):
        assert pay(stack, holder, payee, n).status == 201
    return holder, people


def transfer_records(stack: StreamDriver) -> list[dict[str, Any]]:
    """The TransferPosted records of the feed, from its start (what the trigger's mapping lets through)."""
    return [r for r in StreamDriver().records() if r["dynamodb"]["NewImage"]["event_type"]["S"] == "TransferPosted"]


def transfer_of(record: dict[str, Any]) -> str:
    return str(json.loads(record["dynamodb"]["NewImage"]["payload"]["S"])["id"])


def system_message_count(url: str) -> int:
    with psycopg.connect(url) as conn:
        return int(conn.execute("SELECT count(*) FROM messages WHERE sender_id IS NULL").fetchone()[0])  # type: ignore[index]


class FlakyFluorine:
    """Fluorine, as the trigger calls it, failing for the transfers in ``failing`` (``times`` times each, or always)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, failing: set[str], times: int | None = None) -> None:
        self.real, self.failing, self.times = trigger.internal.call, failing, times
        self.calls: list[str] = []
        self.failures: dict[str, int] = {}
        monkeypatch.setattr(trigger.internal, "call", self)

    def __call__(self, target: str, command: Any, result: Any, context: Any = None) -> Any:
        key = next((t for t in self.failing if command.id == trigger.transfer_message_id(t)), None)
        self.calls.append(str(command.id))
        if key is not None and (self.times is None or self.failures.get(key, 0) < self.times):
            self.failures[key] = self.failures.get(key, 0) + 1
            raise ConnectionError("Fluorine unreachable")
        return self.real(target, command, result, context)


def test_duplicate_and_reordered_transfer_records_send_each_message_once(stack: StreamDriver, postgres: str) -> None:
    # Given the feed's transfer records, each three times, shuffled
    paid(stack, payees=4)
    records = transfer_records(stack) * 3
    random.Random(13).shuffle(records)

    # When the trigger gets them, then the same again in reverse order
    assert stack.trigger(records) == {"batchItemFailures": []}
    assert stack.trigger([copy.deepcopy(r) for r in reversed(records)]) == {"batchItemFailures": []}

    # Then every transfer's recipient got one message (the issue's and four payments'), and nothing is missing
    assert system_message_count(postgres) == 5
    stack.drain()
    assert maintenance.verify()["count"] == 0


def test_a_transfer_committed_but_never_published_gets_its_message_once_the_sweeper_publishes_it(
    stack: StreamDriver, postgres: str
) -> None:
    # Given a payment whose process died between COMMIT and the change feed put
    holder, (payee,) = paid(stack, payees=1)
    stack.settle()
    command = PostTransfer(id=uuid.uuid4(), from_entity=holder.entity_id, to=payee.entity_id, asset="USD", amount=7)
    assert act(command).records  # committed (its session too), never published
    assert verify_kinds()["derived_missing"] == 1
    assert f"transfer#{command.id}" in {d["pk"] for d in maintenance.verify()["drift"] if d["kind"] == "missing"}

    # When the sweeper runs and both consumers get the feed
    assert sweep(db.connection(), grace_seconds=0) >= 3
    stack.settle()

    # Then the message exists once and nothing drifts
    assert system_message_count(postgres) == 3
    assert maintenance.verify()["count"] == 0


def test_a_trigger_failing_halfway_through_a_batch_retries_from_the_failed_record_only(
    stack: StreamDriver, postgres: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given six transfer records, and Fluorine failing once for the fourth one's message
    paid(stack, payees=5)
    records = transfer_records(stack)
    fourth = transfer_of(records[3])
    fluorine = FlakyFluorine(monkeypatch, {fourth}, times=1)
    mapping = event_source_mapping("RheniumTriggerFunction", trigger.handler, tmp_path / "on-failure.jsonl")

    # When the trigger's mapping delivers them
    mapping.deliver(records)

    # Then the records before the failure ran once; the failed one and those after it ran again
    # (a stream retries from its first failure), and each message was written once
    ids = [str(trigger.transfer_message_id(transfer_of(r))) for r in records]
    assert [fluorine.calls.count(i) for i in ids] == [1, 1, 1, 2, 2, 2]
    assert system_message_count(postgres) == 6
    assert not (tmp_path / "on-failure.jsonl").exists()


def test_a_transfer_record_parked_on_the_on_failure_destination_is_reported_and_re_derived(
    stack: StreamDriver, postgres: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given Fluorine failing for the second payment's message for as long as the mapping retries
    monkeypatch.setattr(streams.time, "sleep", lambda _: None)  # the mapping's back-off, not under test
    paid(stack, payees=3)
    records = transfer_records(stack)
    stuck = transfer_of(records[2])
    FlakyFluorine(monkeypatch, {stuck})
    mapping = event_source_mapping("RheniumTriggerFunction", trigger.handler, tmp_path / "on-failure.jsonl")

    # When the mapping delivers the batch
    mapping.deliver(records)

    # Then that record alone is parked, the others' messages are written, and verify names the missing one
    (parked,) = [json.loads(line) for line in (tmp_path / "on-failure.jsonl").read_text().splitlines()]
    assert (parked["batchSize"], parked["startSequenceNumber"]) == (1, records[2]["dynamodb"]["SequenceNumber"])
    assert system_message_count(postgres) == 3
    stack.drain()
    found = maintenance.verify()
    assert found["by_kind"] == {"derived_missing": 1}
    assert found["drift"][0]["source"] == f"transfer#{stuck}"

    # And once Fluorine is back, a rebuild re-derives it
    monkeypatch.undo()
    assert maintenance.rebuild()["rederived"] == 1
    assert system_message_count(postgres) == 4
    assert maintenance.verify()["count"] == 0


def verify_kinds() -> dict[str, int]:
    return maintenance.verify()["by_kind"]  # type: ignore[no-any-return]
