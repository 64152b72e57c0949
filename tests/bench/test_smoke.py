"""Every benchmark still runs: ``python -m bench --smoke`` is part of ``make test``.

A change that breaks a benchmark (a route it calls, a fixture it needs, a store it forgets to
set up) fails here instead of on the next ``make bench``. The smoke run uses tiny sizes, asserts
no time, and must leave the committed results, tables and plots as they were.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOPICS = sorted(p.stem.removeprefix("bench_") for p in (ROOT / "bench").glob("bench_*.py"))
COMMITTED = [ROOT / "bench" / "results.json", ROOT / "docs" / "benchmarks.md", *sorted((ROOT / "docs").glob("*.png"))]


def fingerprints() -> dict[str, str]:
    return {str(p.relative_to(ROOT)): hashlib.sha256(p.read_bytes()).hexdigest() for p in COMMITTED}


def ran(output: str) -> list[str]:
    """The topics the runner reports as finished (``-- bench_<topic> took 1.2s``)."""
    lines = (line.split() for line in output.splitlines() if line.startswith("-- bench_"))
    return sorted(words[1].removeprefix("bench_") for words in lines if words[2] == "took")


def test_every_benchmark_topic_runs_at_smoke_size_and_writes_nothing() -> None:
    # Given the committed results, and an environment naming no store (the runner brings its own)
    before = fingerprints()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DYNAMODB_ENDPOINT", "BENCH_SMOKE")}
    env["PYTHONPATH"] = os.pathsep.join(str(ROOT / p) for p in ("layers/shared", "functions", "."))

    # When the smoke run goes through every topic
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )

    # Then it succeeds, every topic ran, and nothing committed changed
    assert done.returncode == 0, f"{done.stdout[-6000:]}\n{done.stderr[-6000:]}"
    assert ran(done.stdout) == TOPICS
    assert "not written" in done.stdout
    assert fingerprints() == before
