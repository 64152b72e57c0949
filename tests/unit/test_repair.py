"""Readers' repair requests (shared/repair.py): at most one per aggregate per container every few seconds."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from shared import internal, repair
from shared.contracts.maintenance import MAX_REPAIR


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[list[str]]]:
    sent: list[list[str]] = []
    monkeypatch.setenv("MAINTENANCE_FUNCTION", "maintenance")
    from shared.settings import reset_settings

    reset_settings()
    repair.forget()

    def cast(target: str, command: Any, context: Any = None) -> None:
        assert target == "maintenance"
        sent.append(list(command.aggregates))

    monkeypatch.setattr(internal, "cast", cast)
    yield sent
    repair.forget()
    monkeypatch.delenv("MAINTENANCE_FUNCTION")
    reset_settings()


def test_an_aggregate_is_asked_for_once_while_its_repair_is_recent(
    asked: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(repair.time, "monotonic", lambda: clock[0])
    repair.request_repair(["entity#a", "entity#a", "message#b"])
    repair.request_repair(["entity#a"])  # a burst of requests over the same broken item
    clock[0] += repair.REPEAT_AFTER_SECONDS
    repair.request_repair(["entity#a", "message#c"])
    assert asked == [["entity#a", "message#b"], ["entity#a", "message#c"]]


def test_one_request_names_at_most_a_repair_s_worth(asked: list[list[str]]) -> None:
    repair.request_repair([f"entity#{n}" for n in range(MAX_REPAIR + 5)])
    assert [len(a) for a in asked] == [MAX_REPAIR]


def test_without_a_maintenance_function_nothing_is_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(internal, "cast", lambda *a, **k: pytest.fail("asked"))
    repair.request_repair(["entity#a"])
    assert repair.repair_now(["entity#a"]) is None
