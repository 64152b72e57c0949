"""Cold start as a user feels it: for every function of template.yaml, in a fresh interpreter,
(a) init (import and module-level work, which in Lambda includes the function's eager prime), (b)
the first invocation of its most common event against the local services (with SnapStart: after
its before-snapshot hooks, then its after-restore hooks, which count in the first invocation's
time) and (c) a warm invocation of the same event (bench/coldstart_probe.py,
bench/coldstart_stage.py). The reference, a Powertools REST handler (bench/reference_handler.py)
whose route does one DynamoDB GetItem and one pydantic validation, is measured the same way in the
same run; the runs go round-robin so load from elsewhere hits every function alike.

Goals: init+first of the median function at most 0.75x the reference's, none above 1.0x; the first
invocation at most 1.5x the warm one (what a restore from a snapshot still pays).

A smoke run probes the reference and the first FUNCTIONS functions once, with one warm event: each
probe is a whole interpreter start, and the smoke run only shows that the measurement still works.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import coldstart_events as events
from bench import coldstart_stage as stage
from bench.harness import BenchEnv, Figure, Goal, sized
from bench.pgbench_floor import pgbench_floor
from infra.local.template import load, read

ROOT = Path(__file__).resolve().parents[1]
PROBE = Path(__file__).with_name("coldstart_probe.py")
RUNS = sized(7, 1)
WARM_EVENTS = sized(3, 1)
FUNCTIONS = sized(None, 2)  # how many of the template's functions (None: all)
FLOOR_SECONDS = sized(5, 1)  # each of the two pgbench runs of the new-connection floor
REFERENCE = "reference_powertools_handler"
NO_SLOWER = Goal("value_at_most", 1.0, "init+first no slower than the reference handler's")
MEDIAN_GOAL = Goal("value_at_most", 0.75, "median function's init+first at most 0.75x the reference handler's")
ROUNDS = "median over rounds of init+first / the reference's init+first in the same round"
RESTORE_GOAL = Goal("ratio_at_most", 1.5, "first invocation at most 1.5x a warm one")


@dataclass
class Probe:
    handler: str
    snapstart: bool
    event: events.Event
    expect: dict[str, Any]


@dataclass
class Sample:
    init: float
    snapshot: float
    first: float
    warm: float
    imported_by_first: int


def probe_once(name: str, probe: Probe, people: stage.People, env: dict[str, str]) -> Sample:
    # As Lambda sets them: the function's name (shared/snapstart.py primes at init only in Lambda),
    # and how the environment was initialized.
    init_type = "snap-start" if probe.snapstart else "on-demand"
    env = {**env, "AWS_LAMBDA_FUNCTION_NAME": name, "AWS_LAMBDA_INITIALIZATION_TYPE": init_type}
    spec = {
        "handler": probe.handler,
        "snapstart": probe.snapstart,
        "events": [probe.event(people) for _ in range(1 + WARM_EVENTS)],
        "expect": probe.expect,
    }
    done = subprocess.run(  # noqa: S603 - our own interpreter and probe
        [sys.executable, str(PROBE)], input=json.dumps(spec), env=env, capture_output=True, text=True, cwd=ROOT
    )
    if done.returncode != 0:
        raise RuntimeError(f"{probe.handler}: {done.stderr[-3000:]}{done.stdout[-1000:]}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    warm = statistics.median(out["warm_ms"])
    return Sample(out["init_ms"], out["snapshot_ms"], out["first_ms"], warm, len(out["imported_by_first"]))


def snapstart_functions() -> set[str]:
    """The functions template.yaml publishes with SnapStart (the global setting, unless turned off)."""
    raw = read(ROOT / "template.yaml")
    default = raw["Globals"]["Function"].get("SnapStart", {}).get("ApplyOn", "None")
    functions = {n: r for n, r in raw["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}
    return {n for n, r in functions.items() if r["Properties"].get("SnapStart", {}).get("ApplyOn", default) != "None"}


def probes_snapstart(name: str) -> bool:
    return name in snapstart_functions()


def probes() -> dict[str, Probe]:
    functions = sorted(load(ROOT / "template.yaml").functions.items())[:FUNCTIONS]
    snapstart = snapstart_functions()
    found = {n: Probe(fn.handler, n in snapstart, *events.EVENTS[n][1:]) for n, fn in functions}
    reference = Probe("bench.reference_handler.handler", False, lambda p: events.REFERENCE_EVENT, {"status": 200})
    return {REFERENCE: reference, **found}


def child_environment(services: dict[str, str]) -> dict[str, str]:
    return {
        **os.environ,
        **services,
        "PYTHONPATH": os.pathsep.join(str(ROOT / p) for p in ("layers/shared", "functions", ".")),
        "POWERTOOLS_TRACE_DISABLED": "true",
    }


def measure() -> dict[str, list[Sample]]:
    """Every probe RUNS times, round-robin."""
    found = probes()
    samples: dict[str, list[Sample]] = {name: [] for name in found}
    from bench.social_seed import projected_at_publish

    with stage.services() as services, projected_at_publish():
        people, env = stage.seed(), child_environment(services)
        for _ in range(RUNS):
            for name, probe in found.items():
                samples[name].append(probe_once(name, probe, people, env))
    return samples


def median(samples: list[Sample], field: str) -> float:
    return float(statistics.median(getattr(s, field) for s in samples))


def against_reference(runs: list[Sample], reference: list[Sample]) -> float:
    """The median over rounds of init+first ÷ the reference's in the same round: a round's probes
    run within seconds of each other, so a change of load during the run moves both sides alike."""
    return float(
        statistics.median((s.init + s.first) / (r.init + r.first) for s, r in zip(runs, reference, strict=True))
    )


def new_connection_floor(env: BenchEnv) -> list[Figure]:
    """PostgreSQL's own cost of a new connection, the floor under a restored function's first
    command (its connection cannot be in a snapshot): pgbench's tpcb-like at one client with a new
    connection per transaction (``-C``: a backend started, its catalog caches cold) against the same
    on one warm connection, on the same server."""
    with pgbench_floor(env.database_url) as floor:
        warm = floor.latency("tpcb-like", FLOOR_SECONDS, reconnect=False)
        cold = floor.latency("tpcb-like", FLOOR_SECONDS, reconnect=True)
    if warm is None or cold is None:
        print(f"coldstart: PostgreSQL's new-connection floor absent: {floor.absent}", flush=True)
        return []  # no figure rather than a made-up one
    what = "pgbench tpcb-like, 1 client: a transaction on a new connection (-C) against one on a warm connection"
    return [
        Figure("coldstart.postgres_new_connection.first_transaction", cold, "ms", "warm connection", warm, what),
        Figure("coldstart.postgres_new_connection.added", cold - warm, "ms", note=what),
    ]


def run(env: BenchEnv) -> list[Figure]:
    load_before = os.getloadavg()[0]
    samples = measure()
    floor = new_connection_floor(env)
    load_after = os.getloadavg()[0]
    note = f"median of {RUNS} fresh interpreters; load average {load_before:.2f} before, {load_after:.2f} after"
    total = {name: statistics.median(s.init + s.first for s in runs) for name, runs in samples.items()}
    reference = total.pop(REFERENCE)
    shared = "the machine is shared: figures are indicative"
    figures = [Figure("coldstart.load_average_1m", load_after, "", note=shared)]
    ratios: dict[str, float] = {}
    for name, runs in samples.items():
        what = "the reference's GET /todos/{id}" if name == REFERENCE else events.EVENTS[name][0]
        first, warm = median(runs, "first"), median(runs, "warm")
        goal = None if name == REFERENCE else RESTORE_GOAL
        figures += [
            Figure(f"coldstart.{name}.init", median(runs, "init"), "ms", note=note),
            Figure(f"coldstart.{name}.first", first, "ms", "warm invocation", warm, what, goal),
            Figure(f"coldstart.{name}.warm", warm, "ms", note=what),
            Figure(f"coldstart.{name}.modules_imported_by_first", median(runs, "imported_by_first"), "modules"),
        ]
        if probes_snapstart(name):
            note_hooks = "before-snapshot hooks: paid when a version is published, not by a user"
            figures.append(Figure(f"coldstart.{name}.snapshot_hooks", median(runs, "snapshot"), "ms", note=note_hooks))
        if name == REFERENCE:
            figures.append(Figure(f"coldstart.{name}.init_plus_first", reference, "ms", note=note))
            continue
        figures.append(Figure(f"coldstart.{name}.init_plus_first", total[name], "ms", REFERENCE, reference, note))
        ratios[name] = against_reference(runs, samples[REFERENCE])
        figures.append(
            Figure(f"coldstart.{name}.init_plus_first_vs_reference", ratios[name], "x", goal=NO_SLOWER, note=ROUNDS)
        )
    median_total = statistics.median(total.values())
    figures.append(Figure("coldstart.median_function.init_plus_first", median_total, "ms", REFERENCE, reference))
    figures.append(
        Figure(
            "coldstart.median_function.init_plus_first_vs_reference",
            statistics.median(ratios.values()),
            "x",
            goal=MEDIAN_GOAL,
            note=ROUNDS,
        )
    )
    return figures + floor
