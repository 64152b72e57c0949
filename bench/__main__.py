"""``python -m bench [topic ...]``: run bench/bench_*.py (all, or the named topics), write
bench/results.json, redraw the plots in docs/ and the results table of docs/benchmarks.md.

Each module runs in its own interpreter (bench/topic.py) against its own fresh database on one
shared PostgreSQL server. A partial run replaces only its own topics' figures in results.json, so the file always holds
one entry per figure of the latest run of each topic. A topic that fails does not stop the
others; the run writes what was measured and exits non-zero, naming the failed topics.

``--out DIR`` writes results.json, the plots and a copy of benchmarks.md to DIR instead (a run
on a busy machine, to check that everything runs without replacing the published figures).
``--smoke`` runs every topic at tiny sizes (``bench.harness.sized``) and writes nothing: it only
proves each benchmark still runs, and ``make test`` runs it (tests/bench/test_smoke.py).

The 1-minute load average (``os.getloadavg``) is recorded before and after each topic, in
results.json (``load_average_1min``) and beside the table. Before each topic the runner waits (up
to SETTLE_MAX_S) for the load left by the previous topic to settle; a topic that still started
while it exceeded the core count ran on a busy machine: such a run does not overwrite the committed
results (it writes them to a temporary directory and says where) unless ``--force`` is given.

``python -m bench capacity [--measure] [--plot]`` is not a topic: it runs the capacity model
(bench/capacity, docs/capacity.md) in seconds, without AWS or a database, and never writes
results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
RESULTS = HERE / "results.json"
DOCS = HERE.parent / "docs"
# Not ``-m bench.topic``: under ``-m`` the GraphQL 50-member figure reads 5-7x its floor, as a
# library call ~1.1x (reproducible, not yet explained; see docs/benchmarks.md).
CHILD = "from pathlib import Path; from bench.topic import main; raise SystemExit(main({name!r}, Path({out!r})))"


# In a smoke run, a topic that has not finished after this long is taken as hung (a guard, not a goal).
SMOKE_TOPIC_TIMEOUT_S = 300


@contextmanager
def _postgres_server() -> Iterator[None]:
    """One embedded PostgreSQL server for the whole run (each module makes its own database in it)."""
    if os.environ.get("TEST_DATABASE_URL"):
        yield
        return
    import warnings

    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")  # pgserver's platformdirs, harmless
    import pgserver

    server = pgserver.get_server(tempfile.mkdtemp(prefix="elements-bench-pg-"), cleanup_mode="delete")
    os.environ["TEST_DATABASE_URL"] = server.get_uri()
    try:
        yield
    finally:
        del os.environ["TEST_DATABASE_URL"]
        server.cleanup()


def _run_topic(name: str, out: Path, smoke: bool) -> str | None:
    """Run one module in its own interpreter; None if it succeeded, else why it failed."""
    env = {**os.environ, "BENCH_SMOKE": "1" if smoke else ""}
    command = [sys.executable, "-c", CHILD.format(name=name, out=str(out))]
    try:
        done = subprocess.run(command, env=env, timeout=SMOKE_TOPIC_TIMEOUT_S if smoke else None)  # noqa: S603
    except subprocess.TimeoutExpired:
        return f"still running after {SMOKE_TOPIC_TIMEOUT_S}s"
    return None if done.returncode == 0 else f"exit status {done.returncode}"


def load_average() -> float:
    """The 1-minute load average: runnable (and uninterruptible) tasks, averaged over the last minute."""
    return round(os.getloadavg()[0], 2)


# The 1-minute average decays with a one-minute time constant: after a topic's 32 client processes
# it stays above 2 cores for about a minute. Before each topic the runner waits (at most this long)
# for it to fall to the core count, so what it then records is other work, not the last topic.
SETTLE_MAX_S = 150


def settled_load(cpus: int, wait: bool) -> float:
    """The load average once it is at most ``cpus`` (or after SETTLE_MAX_S): what runs besides us."""
    waited, load = 0, load_average()
    while wait and load > cpus and waited < SETTLE_MAX_S:
        if waited == 0:
            print(f"-- load average {load} > {cpus} cores: waiting up to {SETTLE_MAX_S}s for it to settle", flush=True)
        time.sleep(5)
        waited, load = waited + 5, load_average()
    return load


@dataclass
class Measured:
    figures: list[dict[str, Any]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    load: dict[str, dict[str, float]] = field(default_factory=dict)  # topic -> {"before", "after"}
    failed: dict[str, str] = field(default_factory=dict)

    def busy(self, cpus: int) -> dict[str, dict[str, float]]:
        """The measured topics that started while the load average exceeded the core count.

        The load before a topic is other work; the load after it includes the topic's own
        processes (nickel runs 32 client processes), so it is recorded but does not decide.
        """
        return {t: load for t, load in self.load.items() if t in self.seconds and load["before"] > cpus}


def _measure(modules: list[str], smoke: bool) -> Measured:
    """Each module in its own interpreter (bench/topic.py); their figures, seconds, load and failures."""
    measured = Measured()
    with _postgres_server(), tempfile.TemporaryDirectory() as scratch:
        for name in modules:
            topic, started, out = name.removeprefix("bench_"), time.perf_counter(), Path(scratch) / f"{name}.json"
            before = settled_load(os.cpu_count() or 1, wait=not smoke)
            why = _run_topic(name, out, smoke)
            took = round(time.perf_counter() - started, 1)
            load = {"before": before, "after": load_average()}
            measured.load[topic] = load
            if why is not None:
                measured.failed[topic] = why
                print(f"-- {name} FAILED ({why}) after {took:.1f}s", flush=True)
                continue
            measured.figures += [{**f, "load_average": load} for f in json.loads(out.read_text())]
            measured.seconds[topic] = took
            print(f"-- {name} took {took:.1f}s (load average {load['before']} -> {load['after']})", flush=True)
    return measured


def _merged(measured: Measured, started: float) -> dict[str, Any]:
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    figures, seconds = measured.figures, measured.seconds
    kept = [f for f in previous.get("figures", []) if f["name"].split(".")[0] not in seconds]
    load = {t: v for t, v in measured.load.items() if t in seconds}
    return {
        "machine": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "seconds": {**previous.get("seconds", {}), **seconds, "last_run_total": round(time.time() - started, 1)},
        "load_average_1min": {**previous.get("load_average_1min", {}), **load},
        "figures": sorted(kept + figures, key=lambda f: f["name"]),
    }


def _write(results: dict[str, Any], measured: set[str], out: Path | None) -> str:
    """results.json, the plots and the results table: the committed ones, or copies in ``out``."""
    from bench.plots import draw
    from bench.report import update

    results_file, docs = RESULTS, DOCS
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        results_file, docs = out / "results.json", out
        shutil.copyfile(DOCS / "benchmarks.md", out / "benchmarks.md")
    results_file.write_text(json.dumps(results, indent=2) + "\n")
    plots = draw(results, docs, measured)
    update(docs / "benchmarks.md", results)
    return f"{results_file} and {len(plots)} plots"


def main() -> int:
    if sys.argv[1:2] == ["capacity"]:  # the model, not a benchmark: its own arguments, nothing of results.json
        from bench.capacity.report import main as capacity

        return capacity(sys.argv[2:])
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("only", nargs="*", help="topics to run (e.g. oxygen nickel); all by default")
    parser.add_argument("--smoke", action="store_true", help="every topic at tiny sizes, nothing written")
    parser.add_argument("--out", type=Path, help="write results, plots and benchmarks.md here, not in bench/ and docs/")
    parser.add_argument(
        "--force", action="store_true", help="overwrite the committed results even if the machine was busy"
    )
    args = parser.parse_args()
    started = time.time()
    modules = sorted(p.stem for p in HERE.glob("bench_*.py"))
    unknown = set(args.only) - {m.removeprefix("bench_") for m in modules}
    if unknown:
        parser.error(f"no such topic: {', '.join(sorted(unknown))}")
    if args.only:
        modules = [m for m in modules if m.removeprefix("bench_") in args.only]
    measured = _measure(modules, args.smoke)
    figures, seconds, failed = measured.figures, measured.seconds, measured.failed
    if args.smoke:
        print(f"smoke run: {len(seconds)} of {len(modules)} topics ran ({len(figures)} figures, not written)")
    elif seconds:
        out = args.out if args.out is not None or args.force else _busy_elsewhere(measured)
        wrote = _write(_merged(measured, started), set(seconds), out)
        print(f"wrote {wrote} ({len(figures)} figures) in {time.time() - started:.0f}s")
        missed = [f["name"] for f in figures if f.get("goal_met") is False]
        print(f"goals missed: {', '.join(missed)}" if missed else "every goal met")
    if failed:
        print(f"FAILED topics: {', '.join(f'{topic} ({why})' for topic, why in failed.items())}", flush=True)
        return 1
    return 0


def _busy_elsewhere(measured: Measured) -> Path | None:
    """None (write the committed results) if the machine was idle enough; else a scratch directory."""
    cpus = os.cpu_count() or 1
    busy = measured.busy(cpus)
    if not busy:
        return None
    out = Path(tempfile.mkdtemp(prefix="elements-bench-busy-"))
    loads = ", ".join(f"{t} {v['before']} -> {v['after']}" for t, v in busy.items())
    print(
        f"NOT overwriting {RESULTS.relative_to(HERE.parent)}: the 1-minute load average exceeded the {cpus} cores"
        " when a topic started"
        f" ({loads}), so these figures measure the other work too. Written to {out} instead;"
        " run again on an idle machine, or pass --force to publish them anyway.",
        flush=True,
    )
    return out


if __name__ == "__main__":
    sys.exit(main())
