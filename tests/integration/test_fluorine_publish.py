"""Publishing after commit: different aggregates' records at once, each aggregate's in order."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import psycopg
import pytest
from pydantic import BaseModel

from fluorine import publisher
from fluorine.sweeper import sweep
from fluorine.uow import UnitOfWork
from shared.contracts.changes import ChangeRecord
from tests.support.streams import StreamDriver


@pytest.fixture
def conn(postgres: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(postgres) as connection:
        yield connection


class Note(BaseModel):
    text: str


def written(conn: psycopg.Connection, *changes: tuple[str, int]) -> list[ChangeRecord]:
    """Outbox rows of (aggregate, version), committed in the order given, as a command would leave them."""
    with UnitOfWork(conn) as uow:
        for aggregate, version in changes:
            uow.emit(aggregate, version, "NoteWritten", Note(text=f"{aggregate} v{version}"))
    return uow.records


def unpublished(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute("SELECT aggregate, version FROM outbox WHERE published_at IS NULL ORDER BY seq").fetchall()
    return [f"{a}@{v}" for a, v in rows]


def on_feed(stack: StreamDriver) -> list[str]:
    """Every item on the change feed, as aggregate@version, sorted."""
    items = stack.dynamodb.scan(TableName=stack.table)["Items"]
    return sorted(f"{i['aggregate']['S']}@{i['version']['N']}" for i in items)


def test_different_aggregates_are_put_at_once_and_each_aggregates_records_in_order(
    stack: StreamDriver, conn: psycopg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a command's records for three aggregates, two versions of the first
    records = written(conn, ("note#a", 1), ("note#b", 1), ("note#a", 2), ("note#c", 1))
    # And puts that wait until three are in flight at once (sequential puts would break the barrier)
    real_put, together, order = publisher.put_record, threading.Barrier(3, timeout=10), []
    lock = threading.Lock()

    def put(record: ChangeRecord) -> None:
        if record.version == 1:
            together.wait()
        with lock:
            order.append(f"{record.aggregate}@{record.version}")
        real_put(record)

    monkeypatch.setattr(publisher, "put_record", put)
    # When they are published
    assert publisher.publish(conn, records) is True
    # Then all are on the feed and marked, note#a's in the order written
    assert on_feed(stack) == ["note#a@1", "note#a@2", "note#b@1", "note#c@1"]
    assert unpublished(conn) == []
    assert order.index("note#a@1") < order.index("note#a@2")


def test_a_failed_put_stops_the_publish_marks_what_was_put_and_leaves_the_rest_to_the_sweeper(
    stack: StreamDriver, conn: psycopg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given records for three aggregates, and a feed that refuses note#b's
    records = written(conn, ("note#a", 1), ("note#b", 1), ("note#b", 2), ("note#c", 1))
    real_put, put_ok = publisher.put_record, []

    def put(record: ChangeRecord) -> None:
        if record.aggregate == "note#b":
            raise RuntimeError("the feed is unavailable")
        real_put(record)
        put_ok.append(f"{record.aggregate}@{record.version}")

    monkeypatch.setattr(publisher, "put_record", put)
    # When they are published, Then the publish says it is incomplete
    assert publisher.publish(conn, records) is False
    # And exactly what reached the feed is marked: note#b's two rows are left, in order
    assert sorted(put_ok) == on_feed(stack)
    assert [r for r in unpublished(conn) if r.startswith("note#b")] == ["note#b@1", "note#b@2"]
    assert set(unpublished(conn)) == {"note#a@1", "note#b@1", "note#b@2", "note#c@1"} - set(put_ok)
    # And once the feed takes puts again, the sweeper publishes the rest
    monkeypatch.setattr(publisher, "put_record", real_put)
    assert sweep(conn, grace_seconds=0) == 4 - len(put_ok)
    assert unpublished(conn) == []
    assert on_feed(stack) == ["note#a@1", "note#b@1", "note#b@2", "note#c@1"]


def test_no_put_starts_after_the_deadline(stack: StreamDriver, conn: psycopg.Connection) -> None:
    # Given records for two aggregates and a deadline already past
    records = written(conn, ("note#a", 1), ("note#b", 1))
    # When they are published, Then nothing is put and nothing marked
    assert publisher.publish(conn, records, deadline=0.0) is False
    assert on_feed(stack) == []
    assert unpublished(conn) == ["note#a@1", "note#b@1"]


def test_records_put_at_once_reach_the_stream_each_once_and_the_reader_reaches_its_end(
    stack: StreamDriver, conn: psycopg.Connection
) -> None:
    # Given a command's records for many aggregates, put from the publisher's threads at once
    records = written(conn, *((f"note#n{i}", 1) for i in range(48)))
    assert publisher.publish(conn, records) is True
    # When the change feed's stream is read to its end, Then every record is there once, with its
    # own sequence number (moto numbered concurrent appends alike unless made atomic:
    # infra/local/moto_streams.py; a reader then read the shard's tail forever)
    read = stack.records()
    numbers = [r["dynamodb"]["SequenceNumber"] for r in read]
    assert len(read) == 48
    assert len(set(numbers)) == 48
    assert sorted(r["dynamodb"]["NewImage"]["aggregate"]["S"] for r in read) == sorted(f"note#n{i}" for i in range(48))
