"""The pipeline: commit → read-cache lag on the local stack, p50 and p99.

The local stack runs in this process (``infra.local``'s ``stack``: moto's DynamoDB as a server,
the benchmark's PostgreSQL, the real stream mapping thread polling the change feed's stream and
invoking FranciumProjectorFunction, the schedules). Each sample sends a message through
Rhenium's real handler; the clock starts when Fluorine's transaction has committed (the moment
it hands the records to the publisher) and stops when the message is in the read cache, polled
every millisecond with ``francium.cache.get`` — the lag a client's read-your-write would wait.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.harness import WARMUP, BenchEnv, Figure, Goal, sized, summary
from shared.context import Caller
from tests.support.events import FakeContext, api_event

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = sized(100, 3)
GOAL = Goal("value_at_most", 500.0, "p99 at most 0.5 s")


@contextmanager
def local_stack() -> Iterator[None]:
    """The local stack in-process; the process environment restored afterwards."""
    from infra.local.__main__ import stack
    from infra.local.template import load
    from shared.aws import reset_clients
    from shared.settings import reset_settings

    saved = dict(os.environ)
    try:
        with stack(load(ROOT / "template.yaml"), Path(tempfile.mkdtemp(prefix="elements-bench-"))):
            yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        reset_settings()
        reset_clients()


@contextmanager
def commit_clock() -> Iterator[list[float]]:
    """The perf_counter of each commit: Fluorine publishes right after its transaction commits."""
    from fluorine import app

    stamps: list[float] = []
    original = app.publish

    def publish(conn: Any, records: Any, **options: Any) -> bool:
        stamps.append(time.perf_counter())
        return bool(original(conn, records, **options))

    app.publish = publish  # type: ignore[assignment]
    try:
        yield stamps
    finally:
        app.publish = original  # type: ignore[assignment]


def _sender() -> Callable[[], str]:
    from rhenium.app import handler
    from tests.support.factories import register_entity, start_session

    sender, receiver = register_entity()[0].id, register_entity()[0].id
    caller = Caller(entity_id=sender, kind="real", session_id=start_session(sender)[0].session_id)

    def send() -> str:
        body = {"to_entity": str(receiver), "body": f"lag {uuid.uuid4().hex[:6]}"}
        answer = handler(api_event("POST", "/v1/messages", body=body, caller=caller), FakeContext())
        if answer["statusCode"] != 201:
            raise RuntimeError(answer["body"])
        return str(json.loads(answer["body"])["id"])

    return send


def _lag(send: Callable[[], str], stamps: list[float]) -> float:
    from francium import cache

    message_id = send()
    committed = stamps[-1]
    deadline = committed + 10
    while cache.get(f"message#{message_id}") is None:
        if time.perf_counter() > deadline:
            raise RuntimeError("the message never reached the read cache")
        time.sleep(0.001)
    return (time.perf_counter() - committed) * 1000


def run(env: BenchEnv) -> list[Figure]:
    with local_stack(), commit_clock() as stamps:
        send = _sender()
        for _ in range(WARMUP):  # warm-up: imports, connections, the mapping's shard iterator
            _lag(send, stamps)
        samples = [_lag(send, stamps) for _ in range(SAMPLES)]
    lag = summary(samples)
    note = f"{SAMPLES} messages, one at a time, local stack in-process (moto server, stream poller thread)"
    return [
        Figure("pipeline.commit_to_read_cache_p50", lag["p50"], "ms", note=note),
        Figure("pipeline.commit_to_read_cache_p99", lag["p99"], "ms", note=note, goal=GOAL),
        Figure("pipeline.commit_to_read_cache_max", max(samples), "ms"),
    ]
