"""``make chaos``'s orchestration pieces without a stack: where kills land, and how figures are recorded."""

from __future__ import annotations

import itertools
import random
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from infra.chaos import report
from infra.chaos.__main__ import kill_points, monkey
from infra.chaos.checks import Check


class Counter:
    """A shared value that moves on every time it is read (a workload running meanwhile)."""

    def __init__(self, start: float = 0) -> None:
        self._value = start

    @property
    def value(self) -> float:
        self._value += 1
        return self._value


class FakeStack:
    def __init__(self) -> None:
        self.events: list[str] = []

    def kill(self) -> None:
        self.events.append("kill")

    def start(self) -> str:
        self.events.append("start")
        return "Caught up with PostgreSQL in 0.1s: ..."


def test_kill_points_are_spread_over_the_middle_of_the_workload() -> None:
    for seed in range(20):
        points = kill_points(random.Random(seed), total=480, kills=4)
        assert len(points) == 4
        assert all(48 <= p < 432 for p in points)
        assert all(later - earlier >= 30 for earlier, later in itertools.pairwise(points))


def test_the_monkey_kills_and_restarts_once_per_point_alternating_random_and_just_after_a_transfer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("infra.chaos.__main__.time.sleep", lambda _: None)
    stack, running = FakeStack(), Future()  # type: ignore[var-annotated]
    kills = monkey(stack, (Counter(), Counter()), [5, 10, 15], random.Random(1), [running])  # type: ignore[arg-type]
    assert stack.events == ["kill", "start"] * 3
    assert [k["after"] for k in kills] == ["at random", "just after a transfer", "at random"]
    assert all(k["catch_up"].startswith("Caught up") for k in kills)


def test_no_kill_once_the_workload_is_over(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("infra.chaos.__main__.time.sleep", lambda _: None)
    stack, finished = FakeStack(), Future()  # type: ignore[var-annotated]
    finished.set_result({})
    assert monkey(stack, (Counter(), Counter()), [10**9], random.Random(1), [finished]) == []  # type: ignore[arg-type]
    assert stack.events == []


def figures(passed: bool) -> report.Figures:
    stats: dict[str, Any] = {
        "requests": 12,
        "operations": 10,
        "retries": 2,
        "recovered": 1,
        "lost": 0,
        "unexpected": [],
    }
    kill = {"at": 1.0, "operations": 4, "after": "at random", "recovery": 2.5, "catch_up": "Caught up ..."}
    check = Check("every derived write present", passed, "3 of 3", [] if passed else ["transfer x: no message"])
    return report.Figures("abc123", 7, 1, 10, [stats], [kill], [check], 0, 1.0, 30.0)


def test_the_report_gives_the_figures_and_records_them_between_the_markers(tmp_path: Path) -> None:
    document = tmp_path / "reliability.md"
    document.write_text(f"# Reliability\n\n{report.BEGIN}\nold figures\n{report.END}\n\nAfter.\n")
    text = report.markdown(figures(passed=True))
    report.record(document, text)
    written = document.read_text()
    assert "old figures" not in written
    assert "| 12 | 10 | 10 | 1 | 2 | 1 | 0 | 0 | 0 |" in written
    assert "| 1 | 1.0 | 4 | at random | 2.5 s | Caught up ... |" in written
    assert written.endswith(f"{report.END}\n\nAfter.\n")
    assert report.passed(figures(passed=True))
    assert not report.passed(figures(passed=False))
    assert "transfer x: no message" in report.markdown(figures(passed=False))
    unmarked = tmp_path / "elsewhere.md"
    unmarked.write_text("no section for the figures")
    with pytest.raises(ValueError, match="chaos-run"):
        report.record(unmarked, text)
