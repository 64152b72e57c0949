"""``python -m bench [topic ...]``: run bench/bench_*.py (all, or the named topics), write
bench/results.json, redraw the plots in docs/ and the results table of docs/benchmarks.md.

A partial run replaces only its own topics' figures in results.json, so the file always holds
one entry per figure of the latest run of each topic.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from bench.harness import Figure, bench_env, quiet_logs

HERE = Path(__file__).parent
RESULTS = HERE / "results.json"
DOCS = HERE.parent / "docs"


def _measure(modules: list[str]) -> tuple[list[Figure], dict[str, float]]:
    figures: list[Figure] = []
    seconds: dict[str, float] = {}
    with bench_env() as env, quiet_logs():
        for name in modules:
            started = time.perf_counter()
            produced = importlib.import_module(f"bench.{name}").run(env)
            for figure in produced:
                met = "" if figure.goal is None else f" goal {'met' if figure.goal.met(figure) else 'MISSED'}"
                print(f"{figure.name:<60} {figure.value:>12.3f} {figure.unit:<8} ratio={figure.ratio}{met}")
            figures += produced
            seconds[name.removeprefix("bench_")] = round(time.perf_counter() - started, 1)
            print(f"-- {name} took {seconds[name.removeprefix('bench_')]:.1f}s", flush=True)
    return figures, seconds


def _merged(figures: list[Figure], seconds: dict[str, float], started: float) -> dict[str, Any]:
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    kept = [f for f in previous.get("figures", []) if f["name"].split(".")[0] not in seconds]
    return {
        "machine": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "seconds": {**previous.get("seconds", {}), **seconds, "last_run_total": round(time.time() - started, 1)},
        "figures": sorted(kept + [f.as_dict() for f in figures], key=lambda f: f["name"]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("only", nargs="*", help="topics to run (e.g. oxygen nickel); all by default")
    args = parser.parse_args()
    started = time.time()
    modules = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if args.only:
        modules = [m for m in modules if m.removeprefix("bench_") in args.only]
    figures, seconds = _measure(modules)
    results = _merged(figures, seconds, started)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    from bench.plots import draw
    from bench.report import update

    plots = draw(results, DOCS, set(seconds))
    update(DOCS / "benchmarks.md", results)
    print(f"wrote {RESULTS} ({len(figures)} figures) and {len(plots)} plots in {time.time() - started:.0f}s")
    missed = [f.name for f in figures if f.goal is not None and f.goal.met(f) is False]
    print(f"goals missed: {', '.join(missed)}" if missed else "every goal met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
