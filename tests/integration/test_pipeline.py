"""The write → change feed → projection pipeline, with the faults it must survive."""

from __future__ import annotations

import copy

import boto3
import psycopg
import pytest

from fluorine import bus
from fluorine.publisher import publish
from fluorine.sweeper import sweep
from francium import cache
from francium.views.entities import entity
from shared import write_versions
from shared.contracts.changes import ChangeRecord
from shared.contracts.oxygen import entity_aggregate
from shared.errors import Conflict, InvalidRequest
from tests.support.factories import register_command, register_entity
from tests.support.streams import StreamDriver


def publish_outcome(database_url: str, outcome: bus.Outcome) -> None:
    with psycopg.connect(database_url) as conn:
        assert publish(conn, outcome.records)


def feed_items() -> list[dict]:
    return boto3.client("dynamodb").scan(TableName="ChangeFeedTable")["Items"]


def test_a_committed_write_reaches_the_read_cache_through_the_stream(stack: StreamDriver, postgres: str) -> None:
    # Given an entity registered and published
    state, outcome = register_entity(display_name="Ada")
    publish_outcome(postgres, outcome)
    # When the stream delivers the change feed
    delivered = stack.drain()
    # Then the read cache holds the entity at its version
    assert len(delivered) == 1
    assert entity(state.id) == state
    assert cache.versions([entity_aggregate(state.id)]) == {entity_aggregate(state.id): 1}
    assert write_versions.verify(outcome.write_version or "", state.id)[0].aggregate == entity_aggregate(state.id)


def test_outbox_row_and_entity_commit_together_and_publish_marks_the_row(stack: StreamDriver, postgres: str) -> None:
    _, outcome = register_entity()
    with psycopg.connect(postgres) as conn:
        assert conn.execute("SELECT count(*) FROM outbox WHERE published_at IS NULL").fetchone() == (1,)
        publish(conn, outcome.records)
        assert conn.execute("SELECT count(*) FROM outbox WHERE published_at IS NULL").fetchone() == (0,)
    assert len(feed_items()) == 1


def test_a_refused_command_leaves_no_row_and_no_event(stack: StreamDriver, postgres: str) -> None:
    register_entity(handle="taken_handle")
    with pytest.raises(Conflict):
        register_entity(handle="taken_handle")
    with psycopg.connect(postgres) as conn:
        assert conn.execute("SELECT count(*) FROM entities").fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM outbox").fetchone() == (1,)


def test_a_duplicate_record_changes_nothing(stack: StreamDriver, postgres: str) -> None:
    state, outcome = register_entity()
    publish_outcome(postgres, outcome)
    records = stack.records()
    assert stack.deliver(records) == {"batchItemFailures": []}
    # When the same records are delivered again (a retried batch)
    assert stack.deliver(records) == {"batchItemFailures": []}
    # Then the view is unchanged
    assert entity(state.id) == state


def test_records_out_of_order_never_regress_a_view(stack: StreamDriver, postgres: str) -> None:
    # Given version 1 and a later version 2 of the same aggregate (a second event on it)
    state, outcome = register_entity()
    newer = state.model_copy(update={"display_name": "Renamed", "version": 2})
    v2 = ChangeRecord(
        aggregate=entity_aggregate(state.id),
        version=2,
        event_type="EntityUpdated",
        payload=newer.model_dump(mode="json"),
        seq=outcome.records[0].seq + 1,
        occurred_at=outcome.records[0].occurred_at,
    )
    from francium import projector

    # When version 2 is projected before version 1
    projector.apply(v2)
    projector.apply(outcome.records[0])
    # Then the view stays at version 2
    assert entity(state.id) == newer


def test_a_failure_in_the_middle_of_a_batch_reports_only_the_failed_records(stack: StreamDriver, postgres: str) -> None:
    a, out_a = register_entity()
    b, out_b = register_entity()
    publish_outcome(postgres, out_a)
    publish_outcome(postgres, out_b)
    records = stack.records()
    # Given a poison record between two good ones
    poison = copy.deepcopy(records[0])
    poison["dynamodb"]["NewImage"]["aggregate"] = {"S": "unknown#thing"}
    poison["dynamodb"]["SequenceNumber"] = "999999"
    answer = stack.deliver([records[0], poison, records[1]])
    # Then only the poison record is reported, and both good records are projected
    assert answer == {"batchItemFailures": [{"itemIdentifier": "999999"}]}
    assert entity(a.id) == a
    assert entity(b.id) == b


def test_the_sweeper_publishes_what_a_crash_left_between_commit_and_publish(stack: StreamDriver, postgres: str) -> None:
    # Given a committed write whose publish never happened (the process died after commit)
    state, _ = register_entity()
    assert feed_items() == []
    # When the sweeper runs
    with psycopg.connect(postgres) as conn:
        assert sweep(conn, grace_seconds=0) == 1
        assert sweep(conn, grace_seconds=0) == 0
    # Then the change reaches the read side
    stack.drain()
    assert entity(state.id) == state


def test_publishing_twice_puts_one_item(stack: StreamDriver, postgres: str) -> None:
    _, outcome = register_entity()
    publish_outcome(postgres, outcome)
    publish_outcome(postgres, outcome)
    assert len(feed_items()) == 1
    assert len(stack.records()) == 1


def test_register_command_validation_errors_are_invalid_request(postgres: str) -> None:
    raw = register_command().model_dump(mode="json") | {"kind": "robot"}
    with pytest.raises(InvalidRequest):
        bus.execute(raw)
