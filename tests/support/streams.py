"""Drives the change-feed stream by hand (moto cannot run Lambda code): read records, invoke the handler."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3

from infra.local.streams import StreamMapping, lambda_shaped
from infra.local.template import load
from tests.support.events import FakeContext

ROOT = Path(__file__).resolve().parents[2]


class StreamDriver:
    """Reads the change feed's stream from the start, like an event source mapping would."""

    def __init__(self, table: str = "ChangeFeedTable") -> None:
        self.table = table
        self._trigger_reader: StreamDriver | None = None
        self.dynamodb = boto3.client("dynamodb")
        self.streams = boto3.client("dynamodbstreams")
        self.arn = self.dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        self._iterators: dict[str, str | None] = {}

    def records(self) -> list[dict[str, Any]]:
        """Every record not read yet, shaped as Lambda delivers them."""
        shards = self.streams.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"]
        out: list[dict[str, Any]] = []
        for shard in shards:
            shard_id = shard["ShardId"]
            if shard_id not in self._iterators:
                self._iterators[shard_id] = self.streams.get_shard_iterator(
                    StreamArn=self.arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            iterator = self._iterators[shard_id]
            while iterator:
                answer = self.streams.get_records(ShardIterator=iterator, Limit=1000)
                out += [lambda_shaped(r, self.arn) for r in answer["Records"]]
                iterator = answer.get("NextShardIterator")
                if not answer["Records"]:
                    break
            self._iterators[shard_id] = iterator
        return out

    def deliver(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        from francium.stream import handler

        return dict(handler({"Records": records}, FakeContext()))

    @staticmethod
    def trigger(records: list[dict[str, Any]]) -> dict[str, Any]:
        """Deliver ``records`` to Rhenium's trigger (the change feed's other consumer)."""
        from rhenium.trigger import handler

        return dict(handler({"Records": records}, FakeContext()))

    def drain(self) -> list[dict[str, Any]]:
        """Deliver every pending record in one batch; the records delivered."""
        records = self.records()
        if records:
            answer = self.deliver(records)
            assert answer == {"batchItemFailures": []}, answer
        return records

    def settle(self) -> int:
        """Deliver the feed to both of its consumers, each from its own position as each has its own
        event source mapping (the projector: this driver's; Rhenium's trigger: a reader of its own,
        from the start), until what the trigger wrote back is delivered too; how many records the
        trigger was given."""
        if self._trigger_reader is None:
            self._trigger_reader = StreamDriver(self.table)
        given = 0
        while True:
            self.drain()
            records = self._trigger_reader.records()
            if not records:
                return given
            assert self.trigger(records) == {"batchItemFailures": []}
            given += len(records)


class ProjectorOnly(StreamDriver):
    """A driver whose ``settle`` feeds the read side only: a test that hands records to Rhenium's
    trigger itself (and counts what it pushes) sees each record reach the trigger once."""

    def settle(self) -> int:
        self.drain()
        return 0


class InProcess:
    """What a stream mapping needs of the local runtime: one function's real handler, called here."""

    def __init__(self, handler: Callable[[dict[str, Any], Any], Any]) -> None:
        self.handler = handler

    def invoke(self, name: str, event: dict[str, Any]) -> Any:
        return self.handler(event, FakeContext())


def event_source_mapping(function: str, handler: Callable[[dict[str, Any], Any], Any], failures: Path) -> StreamMapping:
    """The local stack's event source mapping of ``function`` as template.yaml configures it (batch
    size, retries, bisection, ReportBatchItemFailures), delivering to ``handler``; its on-failure
    destination is the JSON-lines file ``failures``. Use its ``deliver(records)``."""
    (spec,) = load(ROOT / "template.yaml").functions[function].streams
    unused = "http://127.0.0.1:9"  # deliver() never polls
    return StreamMapping(InProcess(handler), function, "ChangeFeedTable", spec, unused, failures, log=lambda _: None)  # type: ignore[arg-type]
