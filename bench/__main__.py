"""``python -m bench [topic ...]``: run bench/bench_*.py (all, or the named topics), write
bench/results.json, redraw the plots in docs/ and the results table of docs/benchmarks.md.

Each module runs in its own interpreter (bench/topic.py) against its own fresh database on one
shared PostgreSQL server. A partial run replaces only its own topics' figures in results.json, so the file always holds
one entry per figure of the latest run of each topic.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
RESULTS = HERE / "results.json"
DOCS = HERE.parent / "docs"
# Not ``-m bench.topic``: under ``-m`` the GraphQL 50-member figure reads 5-7x its floor, as a
# library call ~1.1x (reproducible, not yet explained; see docs/benchmarks.md).
CHILD = "from pathlib import Path; from bench.topic import main; raise SystemExit(main({name!r}, Path({out!r})))"


@contextmanager
def _postgres_server() -> Iterator[None]:
    """One embedded PostgreSQL server for the whole run (each module makes its own database in it)."""
    if os.environ.get("TEST_DATABASE_URL"):
        yield
        return
    import pgserver

    server = pgserver.get_server(tempfile.mkdtemp(prefix="elements-bench-pg-"), cleanup_mode="delete")
    os.environ["TEST_DATABASE_URL"] = server.get_uri()
    try:
        yield
    finally:
        del os.environ["TEST_DATABASE_URL"]
        server.cleanup()


def _measure(modules: list[str]) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """Each module in its own interpreter (bench/topic.py); their figures and seconds."""
    figures: list[dict[str, Any]] = []
    seconds: dict[str, float] = {}
    with _postgres_server(), tempfile.TemporaryDirectory() as scratch:
        for name in modules:
            started, out = time.perf_counter(), Path(scratch) / f"{name}.json"
            subprocess.run([sys.executable, "-c", CHILD.format(name=name, out=str(out))], check=True)  # noqa: S603
            figures += json.loads(out.read_text())
            seconds[name.removeprefix("bench_")] = round(time.perf_counter() - started, 1)
            print(f"-- {name} took {seconds[name.removeprefix('bench_')]:.1f}s", flush=True)
    return figures, seconds


def _merged(figures: list[dict[str, Any]], seconds: dict[str, float], started: float) -> dict[str, Any]:
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    kept = [f for f in previous.get("figures", []) if f["name"].split(".")[0] not in seconds]
    return {
        "machine": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "seconds": {**previous.get("seconds", {}), **seconds, "last_run_total": round(time.time() - started, 1)},
        "figures": sorted(kept + figures, key=lambda f: f["name"]),
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
    missed = [f["name"] for f in figures if f.get("goal_met") is False]
    print(f"goals missed: {', '.join(missed)}" if missed else "every goal met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
