"""The migration runner's answers to CloudFormation when the database or S3 cannot be reached (no I/O)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from fluorine import migrations
from shared.settings import reset_settings

EVENT = {
    "RequestType": "Create",
    "ResponseURL": "https://example.invalid/response",
    "StackId": "stack",
    "RequestId": "request",
    "LogicalResourceId": "Migrations",
}


@pytest.fixture
def unreachable_database(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """psycopg.connect failing as a connect timeout does; the keyword arguments of each attempt."""
    attempts: list[dict[str, Any]] = []

    def connect(conninfo: str, **kwargs: Any) -> psycopg.Connection:
        attempts.append(kwargs)
        raise psycopg.OperationalError("connection timeout expired")

    monkeypatch.setattr(migrations.psycopg, "connect", connect)
    monkeypatch.setenv("DATABASE_URL", "postgresql://elements@proxy.invalid/elements")
    reset_settings()
    yield attempts
    monkeypatch.undo()
    reset_settings()


def test_the_runner_connects_with_a_timeout_and_answers_failed_when_the_database_is_unreachable(
    unreachable_database: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a database that cannot be reached
    answers: list[str] = []
    monkeypatch.setattr(
        migrations, "respond_to_cloudformation", lambda event, status, reason, data: answers.append(status)
    )
    # When the custom resource runs
    result = migrations.handler(EVENT, None)
    # Then it tried once, with a connect timeout well inside its function's time, and answered FAILED
    assert [a["connect_timeout"] for a in unreachable_database] == [migrations.CONNECT_TIMEOUT]
    assert migrations.CONNECT_TIMEOUT <= 10
    assert answers == ["FAILED"]
    assert result["failed"] == "OperationalError"


def test_a_runner_that_cannot_answer_cloudformation_returns_instead_of_raising(
    unreachable_database: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given CloudFormation's response URL cannot be reached either
    def unreachable(*args: Any) -> None:
        raise OSError("no route to S3")

    monkeypatch.setattr(migrations, "respond_to_cloudformation", unreachable)
    # When the custom resource runs
    # Then it returns (CloudFormation fails the resource at its ServiceTimeout; Lambda re-runs nothing)
    assert migrations.handler(EVENT, None) == {"applied": [], "failed": "OperationalError"}
