"""Fluorine answers a committed write within its timeout: publishing stops in time, the sweeper finishes."""

from __future__ import annotations

import psycopg

from fluorine import app
from fluorine.sweeper import sweep
from tests.support.factories import register_command
from tests.support.streams import StreamDriver


class Context:
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def test_a_write_with_no_time_left_to_publish_is_answered_and_left_to_the_sweeper(
    stack: StreamDriver, postgres: str
) -> None:
    # Given a Fluorine invocation with less time left than it keeps to answer
    context = Context(int(app.PUBLISH_RESERVE_SECONDS * 1000) - 1)
    # When an entity registers
    answer = app.handler({"command": register_command().model_dump(mode="json")}, context)
    # Then the caller gets its answer, nothing was put on the change feed, and the sweeper publishes it
    assert answer["ok"], answer
    assert stack.records() == []
    with psycopg.connect(postgres) as conn:
        assert sweep(conn, grace_seconds=0) == 1
    assert len(stack.records()) == 1


def test_a_write_with_time_left_is_published_at_once(stack: StreamDriver, postgres: str) -> None:
    # Given a Fluorine invocation with its whole timeout ahead
    # When an entity registers
    answer = app.handler({"command": register_command().model_dump(mode="json")}, Context(8_000))
    # Then its change is on the feed already, and nothing is left for the sweeper
    assert answer["ok"], answer
    assert len(stack.records()) == 1
    with psycopg.connect(postgres) as conn:
        assert sweep(conn, grace_seconds=0) == 0
