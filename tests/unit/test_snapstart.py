"""SnapStart's hooks as shared/snapstart.py registers and runs them, and priming without I/O."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from botocore.httpsession import URLLib3Session

from shared import snapstart
from shared.aws import DYNAMODB_CALLS, dynamodb, reset_clients
from shared.settings import reset_settings


@pytest.fixture
def hooks() -> Iterator[None]:
    """The registered hooks as they were (a test's own hooks are forgotten afterwards)."""
    before, after = list(snapstart._before), list(snapstart._after)
    yield
    snapstart._before[:], snapstart._after[:] = before, after


def test_hooks_run_in_the_runtimes_order_before_the_snapshot_reversed_after_the_restore_as_registered(
    hooks: None,
) -> None:
    # Given two hooks of each kind
    ran: list[str] = []
    snapstart._before.clear()
    snapstart._after.clear()
    snapstart.before_snapshot(lambda: ran.append("before 1"))
    snapstart.before_snapshot(lambda: ran.append("before 2"))
    snapstart.after_restore(lambda: ran.append("after 1"))
    snapstart.after_restore(lambda: ran.append("after 2"))

    # When a snapshot is taken and restored
    snapstart.run_before_snapshot()
    snapstart.run_after_restore()

    # Then the order is the runtime's (the reverse of registration before a snapshot)
    assert ran == ["before 2", "before 1", "after 1", "after 2"]


def test_a_prime_runs_at_import_only_in_lambda_and_once_however_often_it_is_called(
    hooks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a prime defined outside Lambda, and one inside (an on-demand init)
    calls: list[str] = []
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
    outside = snapstart.prime()(lambda: calls.append("outside"))
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "f")
    inside = snapstart.prime()(lambda: calls.append("inside"))
    assert calls == ["inside"]

    # When the before-snapshot hooks run, and the primes are called again
    snapstart.run_before_snapshot()
    outside()
    inside()

    # Then each ran once
    assert sorted(calls) == ["inside", "outside"]


def test_an_init_that_ends_in_a_snapshot_leaves_the_prime_to_the_before_snapshot_hook(
    hooks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a SnapStart init in Lambda
    calls: list[str] = []
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "f")
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "snap-start")

    # When a prime is defined, then it waits for the hook
    snapstart.prime()(lambda: calls.append("primed"))
    assert calls == []
    snapstart.run_before_snapshot()
    assert calls == ["primed"]


def test_a_failing_prime_does_not_fail_the_init(hooks: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a prime whose store is unreachable
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "f")

    def unreachable() -> None:
        raise ConnectionError("no route")

    # When it runs at import, then nothing is raised: the first request builds what is missing
    snapstart.prime()(unreachable)


def test_exercising_a_client_runs_its_operations_without_sending_anything(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the DynamoDB client of the test stage (no moto, no endpoint) and a watch on its HTTP session
    reset_settings()
    reset_clients()
    sent: list[object] = []
    monkeypatch.setattr(URLLib3Session, "send", lambda self, request: sent.append(request))
    try:
        # When its common operations are exercised
        snapstart.exercise(dynamodb(), DYNAMODB_CALLS)

        # Then nothing was sent
        assert sent == []
    finally:
        reset_clients()
