"""The local event source mapping's poller (infra/local/streams.py) against a DynamoDB endpoint it
does not own: it survives errors without skipping or repeating records, and follows a recreated table."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from infra.local.services import start_dynamodb, table_spec
from infra.local.streams import StreamMapping
from infra.local.template import load
from tests.support.polling import wait_until

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_TABLE = "ChangeFeedTable"


class Recording:
    """A runtime whose function records the versions it was delivered."""

    def __init__(self) -> None:
        self.seen: list[int] = []
        self.lock = threading.Lock()

    def invoke(self, name: str, event: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.seen += [int(r["dynamodb"]["NewImage"]["version"]["N"]) for r in event["Records"]]
        return {"batchItemFailures": []}


@pytest.fixture
def endpoint() -> Iterator[str]:
    url, stop = start_dynamodb()
    yield url
    stop()


@pytest.fixture
def table() -> str:
    """A table of this test's own: moto's servers in one process share their tables."""
    return f"ChangeFeed{uuid.uuid4().hex[:8]}"


def feed(endpoint: str) -> Any:
    return boto3.client("dynamodb", endpoint_url=endpoint)


def create(endpoint: str, table: str) -> None:
    feed(endpoint).create_table(**table_spec(table, load(ROOT / "template.yaml").tables[TEMPLATE_TABLE]))


def put(endpoint: str, table: str, versions: range) -> None:
    for v in versions:
        item = {"aggregate": {"S": "entity#x"}, "version": {"N": str(v)}, "event_type": {"S": "Test"}}
        feed(endpoint).put_item(TableName=table, Item=item)


def mapping(endpoint: str, table: str, runtime: Recording, tmp_path: Path, log: list[str]) -> StreamMapping:
    (spec,) = load(ROOT / "template.yaml").functions["FranciumProjectorFunction"].streams
    return StreamMapping(runtime, "FranciumProjectorFunction", table, spec, endpoint, tmp_path / "f.jsonl", log.append)  # type: ignore[arg-type]


def test_after_a_polling_error_every_shard_resumes_after_its_last_delivered_record(
    endpoint: str, table: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    create(endpoint, table)
    runtime, log = Recording(), []
    poller = mapping(endpoint, table, runtime, tmp_path, log)
    put(endpoint, table, range(1, 4))
    poller.start()
    try:
        wait_until(lambda: list(runtime.seen), lambda seen: seen == [1, 2, 3], "the first records")
        # When reading the stream fails once (an expired iterator, the endpoint away for a moment)
        real = poller.streams.get_records
        failures = iter([RuntimeError("ExpiredIteratorException")])

        def flaky(**kwargs: Any) -> Any:
            error = next(failures, None)
            if error is not None:
                raise error
            return real(**kwargs)

        monkeypatch.setattr(poller.streams, "get_records", flaky)
        put(endpoint, table, range(4, 6))
        # Then the later records arrive once, and nothing is delivered twice
        wait_until(lambda: list(runtime.seen), lambda seen: seen == [1, 2, 3, 4, 5], "the later records, once")
        assert any("ExpiredIteratorException" in line for line in log)
    finally:
        poller.stop()


def test_a_recreated_table_is_followed_on_its_new_stream(endpoint: str, table: str, tmp_path: Path) -> None:
    create(endpoint, table)
    runtime, log = Recording(), []
    poller = mapping(endpoint, table, runtime, tmp_path, log)
    put(endpoint, table, range(1, 3))
    poller.start()
    try:
        wait_until(lambda: list(runtime.seen), lambda seen: seen == [1, 2], "the first table's records")
        # When someone deletes the change feed and creates it again
        feed(endpoint).delete_table(TableName=table)
        create(endpoint, table)
        put(endpoint, table, range(10, 12))
        # Then the poller finds the new stream and delivers its records from the start
        wait_until(lambda: list(runtime.seen), lambda seen: seen == [1, 2, 10, 11], "the new table's records")
    finally:
        poller.stop()
