"""The migration runner as CloudFormation's custom resource: it always answers, and never waits forever."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from fluorine import migrations

EVENT = {
    "RequestType": "Update",
    "ResponseURL": "https://example.invalid/response",
    "StackId": "stack",
    "RequestId": "request",
    "LogicalResourceId": "Migrations",
}


class Context:
    """A Lambda context with ``remaining_ms`` left."""

    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """What the runner answers CloudFormation: (status, reason)."""
    recorded: list[tuple[str, str]] = []
    monkeypatch.setattr(
        migrations, "respond_to_cloudformation", lambda event, status, reason, data: recorded.append((status, reason))
    )
    return recorded


def test_a_failing_migration_is_answered_failed_not_raised_and_not_recorded(
    postgres: str, answers: list[tuple[str, str]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Given a pending migration that fails
    (tmp_path / "9999_broken.sql").write_text("SELECT * FROM no_such_table;")
    monkeypatch.setenv("MIGRATIONS_DIR", str(tmp_path))
    # When the custom resource runs it
    result = migrations.handler(EVENT, Context(300_000))
    # Then CloudFormation hears FAILED with the reason, the function returns (Lambda retries nothing),
    # and the migration is not marked applied
    assert [status for status, _ in answers] == ["FAILED"]
    assert "UndefinedTable" in answers[0][1]
    assert result == {"applied": [], "failed": "UndefinedTable"}
    with psycopg.connect(postgres) as conn:
        assert conn.execute("SELECT count(*) FROM schema_migrations WHERE version = '9999'").fetchone() == (0,)


def test_a_runner_waiting_for_the_lock_gives_up_before_its_function_does_and_answers_failed(
    postgres: str, answers: list[tuple[str, str]]
) -> None:
    # Given another runner holding the migrations lock for as long as this one may wait
    with psycopg.connect(postgres, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", (migrations.LOCK_ID,))
        # When the custom resource runs with little more time left than it keeps to answer
        migrations.handler(EVENT, Context(migrations.ANSWER_RESERVE_SECONDS * 1000 + 200))
    # Then the lock wait is cancelled at its deadline and CloudFormation hears FAILED (not silence)
    assert [status for status, _ in answers] == ["FAILED"]
    assert "QueryCanceled" in answers[0][1]


def test_after_giving_up_the_lock_is_free_for_the_next_deploy(postgres: str, answers: list[tuple[str, str]]) -> None:
    # Given a runner that failed
    with psycopg.connect(postgres, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", (migrations.LOCK_ID,))
        migrations.handler(EVENT, Context(migrations.ANSWER_RESERVE_SECONDS * 1000 + 200))
    # When the next deploy runs it
    migrations.handler(EVENT, Context(300_000))
    # Then it succeeds
    assert [status for status, _ in answers] == ["FAILED", "SUCCESS"]
