"""Cold start: each function's import-and-init time in a fresh interpreter, beside a reference
Powertools handler (bench/reference_handler.py) measured the same way in the same run (round-robin).

A smoke run probes the reference and the first FUNCTIONS functions once: each probe is a whole
interpreter start, and the smoke run only shows that the measurement still works."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

from bench.harness import BenchEnv, Figure, Goal, sized
from infra.local.template import load

ROOT = Path(__file__).resolve().parents[1]
RUNS = sized(7, 1)
FUNCTIONS = sized(None, 2)  # how many of the template's functions (None: all)
NO_SLOWER = Goal("ratio_at_most", 1.0, "no slower than the reference handler")
MEDIAN_GOAL = Goal("ratio_at_most", 0.75, "median function at most 0.75x the reference handler")
PROBE = (
    "import time, importlib; t = time.perf_counter(); m = importlib.import_module({module!r}); "
    "getattr(m, {attribute!r}); print((time.perf_counter() - t) * 1000)"
)


def import_ms_once(handler: str) -> float:
    module, _, attribute = handler.rpartition(".")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(str(ROOT / p) for p in ("layers/shared", "functions", ".")),
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    out = subprocess.run(  # noqa: S603 - our own interpreter and modules
        [sys.executable, "-c", PROBE.format(module=module, attribute=attribute)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return float(out.stdout.strip().splitlines()[-1])


def import_ms(handlers: dict[str, str]) -> dict[str, float]:
    """Median per handler; the runs go round-robin so load from elsewhere hits every handler alike."""
    samples: dict[str, list[float]] = {name: [] for name in handlers}
    for _ in range(RUNS):
        for name, handler in handlers.items():
            samples[name].append(import_ms_once(handler))
    return {name: statistics.median(values) for name, values in samples.items()}


def run(env: BenchEnv) -> list[Figure]:
    functions = sorted(load(ROOT / "template.yaml").functions.items())[:FUNCTIONS]
    handlers = {name: fn.handler for name, fn in functions}
    measured = import_ms({"reference_powertools_handler": "bench.reference_handler.handler", **handlers})
    reference = measured.pop("reference_powertools_handler")
    note = f"import + init, median of {RUNS}"
    figures = [Figure("coldstart.reference_powertools_handler", reference, "ms", note=note)]
    for name, value in measured.items():
        figures.append(
            Figure(f"coldstart.{name}", value, "ms", "reference_powertools_handler", reference, note, NO_SLOWER)
        )
    figures.append(
        Figure(
            "coldstart.median_function",
            statistics.median(measured.values()),
            "ms",
            "reference_powertools_handler",
            reference,
            goal=MEDIAN_GOAL,
        )
    )
    return figures
