"""What every benchmark shares: the figure format, timing helpers, and an environment to run in.

A benchmark module is ``bench/bench_<topic>.py`` with ``run(env: BenchEnv) -> list[Figure]``;
``python -m bench`` runs them all and writes bench/results.json. Benchmarks are never tests:
nothing here asserts a time.

``python -m bench --smoke`` runs every module at the sizes given as ``sized(full, smoke)``'s
second argument (BENCH_SMOKE=1 in each module's interpreter): every code path, tiny and quick,
to prove the benchmarks still run; its figures mean nothing and are not written anywhere.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any, Literal, TypeVar

T = TypeVar("T")
SMOKE = os.environ.get("BENCH_SMOKE") == "1"


def sized(full: T, smoke: T) -> T:
    """``full`` when measuring, ``smoke`` in a smoke run (which only proves the benchmark runs)."""
    return smoke if SMOKE else full


WARMUP = sized(3, 1)  # untimed calls before the timed ones


@dataclass(frozen=True)
class Goal:
    """What a figure should reach: its ratio at most / at least ``threshold``, or its value at most."""

    kind: Literal["ratio_at_most", "ratio_at_least", "value_at_most"]
    threshold: float
    text: str

    def met(self, figure: Figure) -> bool | None:
        if self.kind == "value_at_most":
            return figure.value <= self.threshold
        if figure.ratio is None:
            return None
        return figure.ratio <= self.threshold if self.kind == "ratio_at_most" else figure.ratio >= self.threshold


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    baseline: str | None = None
    baseline_value: float | None = None
    note: str | None = None
    goal: Goal | None = None

    @property
    def ratio(self) -> float | None:
        if self.baseline_value in (None, 0):
            return None
        return round(self.value / self.baseline_value, 3)  # type: ignore[operator]

    def as_dict(self) -> dict[str, Any]:
        fields = {k: v for k, v in asdict(self).items() if k != "goal"}
        if self.goal is None:
            return {**fields, "ratio": self.ratio}
        return {**fields, "ratio": self.ratio, "goal": self.goal.text, "goal_met": self.goal.met(self)}


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def timed(fn: Callable[[], Any], repeat: int, warmup: int = WARMUP) -> list[float]:
    """Milliseconds per call, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def alternating(
    first: Callable[[], Any], second: Callable[[], Any], runs: int, warmup: int = WARMUP
) -> tuple[list[float], list[float]]:
    """Milliseconds per call of each, alternated call by call so load on the machine hits both alike."""
    for _ in range(warmup):
        first(), second()
    samples: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        for fn, out in ((first, samples[0]), (second, samples[1])):
            begun = time.perf_counter()
            fn()
            out.append((time.perf_counter() - begun) * 1000)
    return samples


SCALE_SIZES = sized((10, 1_000, 100_000), (10, 30, 60))


def scale_baseline(size: int, p50_by_size: dict[int, float], unit: str) -> tuple[str, float]:
    """What a scale-curve page is compared with: the smallest size, or 1,000 for the largest."""
    small, middle = SCALE_SIZES[0], SCALE_SIZES[1]
    if size <= middle:
        return (f"page at {small} {unit}", p50_by_size[small])
    return (f"page at {middle:,}", p50_by_size[middle])


def flat_goal(size: int, items_read_by_size: dict[int, int]) -> Goal | None:
    """At the largest size, a page must read no more items than at 1,000 (the curve is flat)."""
    if size != SCALE_SIZES[-1]:
        return None
    middle = SCALE_SIZES[1]
    return Goal("value_at_most", items_read_by_size[middle], f"flat: no more items read than at {middle:,}")


def summary(samples: list[float]) -> dict[str, float]:
    return {"p50": statistics.median(samples), "p99": percentile(samples, 99)}


@contextmanager
def quiet_logs() -> Iterator[None]:
    """Powertools logs every request at INFO; thousands of benchmark lines are noise (warnings stay)."""
    import logging

    previous = logging.root.manager.disable
    logging.disable(logging.INFO)
    try:
        yield
    finally:
        logging.disable(previous)


@dataclass
class BenchEnv:
    database_url: str


@contextmanager
def bench_env() -> Iterator[BenchEnv]:
    """A migrated PostgreSQL (embedded unless TEST_DATABASE_URL) and the test-stage settings.

    No DynamoDB endpoint is set: a module brings the one it measures on (moto in-process with
    ``tests.support.aws.moto_tables``, the ``SortedTable`` stand-in of ``social_seed.read_cache``,
    or the local stack's moto server on 127.0.0.1). A call outside them is refused at once
    (``shared/local_only.py``), never sent to AWS.
    """
    import tests.conftest  # noqa: F401 - sets the test environment and key
    from tests.support.postgres import fresh_database

    with fresh_database() as url:
        os.environ["DATABASE_URL"] = url
        from shared.settings import reset_settings

        reset_settings()
        yield BenchEnv(database_url=url)
