"""A local event source mapping: polls DynamoDB Streams and invokes the stream handler in batches.

Like Lambda's mapping it honours ``ReportBatchItemFailures`` (retries from the first failed
record), ``MaximumRetryAttempts``, ``BisectBatchOnFunctionError`` and the on-failure
destination (locally: a JSON-lines file and the log).

It outlives trouble with the stream the way Lambda's poller does: after an error (an expired or
invalid shard iterator, a DynamoDB endpoint briefly away) it resumes each shard after the last
record it delivered; if the table was recreated (a new stream), it starts on the new stream from
its beginning.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3

from infra.local.runtime import Runtime
from shared.settings import get_settings

POLL_IDLE_SECONDS = 0.05


def lambda_shaped(record: dict[str, Any], arn: str) -> dict[str, Any]:
    """A GetRecords record as Lambda delivers it: JSON types only, with its source ARN."""
    dynamodb = dict(record["dynamodb"])
    created = dynamodb.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
    return {**record, "dynamodb": dynamodb, "eventSourceARN": arn}


class StreamMapping:
    def __init__(
        self,
        runtime: Runtime,
        function: str,
        table: str,
        spec: dict[str, Any],
        endpoint: str,
        failures_file: Path,
        log: Any = print,
    ) -> None:
        self.runtime, self.function, self.table, self.spec = runtime, function, table, spec
        self.failures_file, self.log = failures_file, log
        self.batch_size = int(spec.get("BatchSize", 100))
        self.max_retries = int(spec.get("MaximumRetryAttempts", 3))
        self.bisect = bool(spec.get("BisectBatchOnFunctionError", False))
        self.report_failures = "ReportBatchItemFailures" in spec.get("FunctionResponseTypes", [])
        region = get_settings().region  # the functions' region, so they find these tables
        self.dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name=region)
        self.streams = boto3.client("dynamodbstreams", endpoint_url=endpoint, region_name=region)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"stream-{function}", daemon=True)
        self.delivered = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _iterator(self, arn: str, shard_id: str, after: str | None) -> str:
        """Where to read a shard: after the last record delivered from it, else its beginning."""
        position: dict[str, str] = (
            {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after}
            if after
            else {"ShardIteratorType": "TRIM_HORIZON"}
        )
        return str(self.streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id, **position)["ShardIterator"])

    def _run(self) -> None:
        arn: str | None = None
        iterators: dict[str, str | None] = {}  # shard -> where to read next (None: to be made)
        delivered_up_to: dict[str, str] = {}  # shard -> sequence number of the last record delivered
        closed: set[str] = set()  # shards read to their end
        while not self._stop.is_set():
            try:
                latest: str = self.dynamodb.describe_table(TableName=self.table)["Table"]["LatestStreamArn"]
                if latest != arn:  # the first poll, or the table was recreated: a new stream
                    arn, iterators, delivered_up_to, closed = latest, {}, {}, set()
                for shard in self.streams.describe_stream(StreamArn=latest)["StreamDescription"]["Shards"]:
                    shard_id = shard["ShardId"]
                    if iterators.get(shard_id) is None and shard_id not in closed:
                        iterators[shard_id] = self._iterator(latest, shard_id, delivered_up_to.get(shard_id))
                busy = False
                for shard_id, iterator in list(iterators.items()):
                    if iterator is None or shard_id in closed:
                        continue
                    answer = self.streams.get_records(ShardIterator=iterator, Limit=self.batch_size)
                    records = answer.get("Records", [])
                    if records:
                        busy = True
                        self.deliver([lambda_shaped(r, latest) for r in records])
                        delivered_up_to[shard_id] = records[-1]["dynamodb"]["SequenceNumber"]
                    iterators[shard_id] = answer.get("NextShardIterator")
                    if iterators[shard_id] is None:
                        closed.add(shard_id)
                if not busy:
                    self._stop.wait(POLL_IDLE_SECONDS)
            except Exception as exc:
                self.log(f"stream poller error: {exc!r}")
                self._stop.wait(1.0)
                # An iterator may have expired or the endpoint been away: every shard resumes after
                # the last record it delivered (or from its beginning), on the next poll
                iterators = dict.fromkeys(iterators)

    def deliver(self, records: list[dict[str, Any]]) -> None:
        """Deliver one batch to completion: retries, bisection and the on-failure destination."""
        pending = [records]
        while pending:
            batch = pending.pop(0)
            for attempt in range(self.max_retries + 1):
                failed_from = self._invoke(batch)
                if failed_from is None:
                    self.delivered += len(batch)
                    break
                self.delivered += failed_from
                batch = batch[failed_from:]
                if self.bisect and len(batch) > 1:
                    middle = len(batch) // 2
                    pending[:0] = [batch[:middle], batch[middle:]]
                    break
                time.sleep(min(1.0, 0.05 * 2**attempt))
            else:
                self._give_up(batch)

    def _invoke(self, batch: list[dict[str, Any]]) -> int | None:
        """None when the whole batch succeeded, else the index to retry from."""
        try:
            answer = self.runtime.invoke(self.function, {"Records": batch})
        except Exception as exc:
            self.log(f"stream handler {self.function} failed: {exc!r}")
            return 0
        failures = ((answer or {}).get("batchItemFailures") or []) if self.report_failures else []
        if not failures:
            return None
        sequence_numbers = [r["dynamodb"]["SequenceNumber"] for r in batch]
        return min(
            sequence_numbers.index(f["itemIdentifier"]) for f in failures if f["itemIdentifier"] in sequence_numbers
        )

    def _give_up(self, batch: list[dict[str, Any]]) -> None:
        """The on-failure destination: the batch's metadata, as Lambda would send it to SQS."""
        first, last = batch[0]["dynamodb"]["SequenceNumber"], batch[-1]["dynamodb"]["SequenceNumber"]
        record = {
            "function": self.function,
            "startSequenceNumber": first,
            "endSequenceNumber": last,
            "batchSize": len(batch),
            "keys": [r["dynamodb"].get("Keys") for r in batch],
        }
        self.failures_file.parent.mkdir(parents=True, exist_ok=True)
        with self.failures_file.open("a") as out:
            out.write(json.dumps(record) + "\n")
        self.log(f"stream records sent to the on-failure destination: {record}")
        self.delivered += len(batch)
