"""Faults on the way from commit to read cache; after each, ``verify`` finds zero drift."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest

from fluorine import db
from fluorine.publisher import publish
from fluorine.sweeper import sweep
from francium import maintenance, projector
from infra.local import streams
from shared.contracts.oxygen import UpdateEntity
from tests.support.factories import register_entity
from tests.support.streams import StreamDriver, event_source_mapping


def committed_entities(count: int) -> list[Any]:
    """``count`` entities registered and published to the feed (not yet projected)."""
    states = []
    for _ in range(count):
        state, outcome = register_entity()
        publish(db.connection(), outcome.records)
        states.append(state)
    return states


def rename(entity_id: Any, name: str) -> None:
    from tests.support.factories import act

    outcome = act(UpdateEntity(entity_id=entity_id, display_name=name))
    publish(db.connection(), outcome.records)


def test_a_crash_between_commit_and_publish_is_drift_until_the_sweeper_publishes(stack: StreamDriver) -> None:
    # Given a committed write whose publication never happened (the process died after commit)
    state, _ = register_entity()
    assert verify_kinds() == {"missing": 1}
    assert maintenance.verify()["drift"][0]["pk"] == f"entity#{state.id}"

    # When the sweeper runs and the change feed is delivered
    assert sweep(db.connection(), grace_seconds=0) == 1
    stack.drain()

    # Then the read cache agrees with the truth
    assert maintenance.verify()["count"] == 0


def test_a_projector_failing_in_the_middle_of_a_batch_recovers_on_redelivery(
    stack: StreamDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given five committed entities and a projector that fails on the third record's write
    committed_entities(5)
    records = stack.records()
    real_put, calls = projector.put_if_newer, {"n": 0}

    def flaky_put(item: Any) -> bool:
        calls["n"] += 1
        if calls["n"] == 3:
            raise ConnectionError("cache unavailable")
        return real_put(item)

    monkeypatch.setattr(projector, "put_if_newer", flaky_put)

    # When the batch is delivered, then redelivered from the first failure (as Lambda retries)
    answer = stack.deliver(records)
    failed = [f["itemIdentifier"] for f in answer["batchItemFailures"]]
    assert failed == [records[2]["dynamodb"]["SequenceNumber"]]
    assert verify_kinds() == {"missing": 1}
    first = next(i for i, r in enumerate(records) if r["dynamodb"]["SequenceNumber"] == failed[0])
    assert stack.deliver(records[first:]) == {"batchItemFailures": []}

    # Then nothing is missing
    assert maintenance.verify()["count"] == 0


def test_duplicate_and_reordered_records_never_regress_a_view(stack: StreamDriver) -> None:
    # Given entities renamed twice each (three versions), their records duplicated and shuffled
    states = committed_entities(3)
    for state in states:
        rename(state.id, "Second")
        rename(state.id, "Third")
    records = stack.records()
    shuffled = records * 3
    random.Random(7).shuffle(shuffled)

    # When the shuffled batch is delivered twice
    assert stack.deliver(shuffled) == {"batchItemFailures": []}
    assert stack.deliver(list(reversed(shuffled))) == {"batchItemFailures": []}

    # Then every entity is at its latest version and data
    assert maintenance.verify()["count"] == 0
    assert {maintenance.verify(f"entity#{s.id}")["aggregates_checked"] for s in states} == {1}


def poisoned(record: dict[str, Any], aggregate: str, payload: dict[str, Any]) -> dict[str, Any]:
    bad = copy.deepcopy(record)
    image = bad["dynamodb"]["NewImage"]
    image["aggregate"] = {"S": aggregate}
    image["payload"] = {"S": json.dumps(payload)}
    bad["dynamodb"]["SequenceNumber"] = record["dynamodb"]["SequenceNumber"] + "9"
    return bad


@pytest.mark.parametrize(
    ("aggregate", "payload"),
    [("nobody_knows#1", {}), ("entity#6f1d8e3a-0a3b-4b47-9a4b-0f5c3e1f2a10", {"id": "not a uuid"})],
)
def test_a_poison_record_is_a_batch_item_failure_and_does_not_block_later_records(
    stack: StreamDriver, aggregate: str, payload: dict[str, Any]
) -> None:
    # Given a batch with a poison record (an unknown aggregate type, or a payload no projection accepts) in the middle
    committed_entities(4)
    records = stack.records()
    bad = poisoned(records[1], aggregate, payload)
    batch = [*records[:2], bad, *records[2:]]

    # When it is delivered
    answer = stack.deliver(batch)

    # Then only the poison record is reported, every later record is applied, and nothing drifts
    assert answer == {"batchItemFailures": [{"itemIdentifier": bad["dynamodb"]["SequenceNumber"]}]}
    assert maintenance.verify()["count"] == 0


def test_a_poison_record_goes_to_the_on_failure_destination_and_the_shard_moves_on(
    stack: StreamDriver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the projector's event source mapping as the template configures it (retries, bisection),
    # and a batch with a record no projection accepts among good ones
    from francium.stream import handler

    monkeypatch.setattr(streams.time, "sleep", lambda _: None)  # the mapping's back-off, not under test
    committed_entities(5)
    records = stack.records()
    bad = poisoned(records[2], "entity#6f1d8e3a-0a3b-4b47-9a4b-0f5c3e1f2a10", {"id": "not a uuid"})
    mapping = event_source_mapping("FranciumProjectorFunction", handler, tmp_path / "on-failure.jsonl")

    # When the mapping delivers the batch
    mapping.deliver([*records[:2], bad, *records[2:]])

    # Then the poison record alone is parked on the on-failure destination, after its retries, and
    # every record after it was projected: the shard moved on
    (parked,) = [json.loads(line) for line in (tmp_path / "on-failure.jsonl").read_text().splitlines()]
    assert (parked["batchSize"], parked["startSequenceNumber"]) == (1, bad["dynamodb"]["SequenceNumber"])
    assert mapping.delivered == len(records) + 1
    assert maintenance.verify()["count"] == 0


def verify_kinds() -> dict[str, int]:
    return maintenance.verify()["by_kind"]  # type: ignore[no-any-return]
