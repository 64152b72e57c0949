"""``python -m bench capacity``: the model at 10k, 1M and 10M entities, printed in seconds.

Reads bench/capacity_costs.json only (no AWS, no database) and writes nothing unless asked:
``--measure`` re-measures the per-action costs first (PostgreSQL and moto, about 20 s),
``--plot`` redraws docs/capacity.png, ``--markdown`` prints the tables docs/capacity.md carries.
bench/results.json is never touched.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from bench.capacity.costs import COSTS, READ_CACHE, Costs, load_costs
from bench.capacity.limits import LIMITS
from bench.capacity.model import FAILED_RECORD_SHARE, Result, Workload, entities_at_limit, evaluate

SIZES = (10_000, 1_000_000, 10_000_000)
PLOT = Path(__file__).parent.parent.parent / "docs" / "capacity.png"


def _n(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:,.2f}" if value >= 1 else f"{value:.3g}"


def _entities(n: float | None) -> str:
    if n is None:
        return "never"
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if n >= size:
            return f"{n / size:.3g}{suffix}"
    return f"{n:.0f}"


LOADS: list[tuple[str, Callable[[Result], float]]] = [
    ("daily active entities", lambda r: r.workload.actives),
    ("API requests/s (average)", lambda r: sum(v for k, v in r.rates.items() if k != "authorize")),
    ("Lambda invocations/s (average)", lambda r: sum(r.invocations.values())),
    ("  of which Fluorine (the write hop)", lambda r: r.invocations.get("fluorine", 0.0)),
    ("Lambda concurrency (peak)", lambda r: sum(r.concurrency.values())),
    ("Aurora transactions/s (average)", lambda r: r.transactions),
    ("Aurora statements/s (average)", lambda r: r.statements),
    ("DynamoDB read units/s (average)", lambda r: sum(r.rru.values())),
    (f"  of which {READ_CACHE}", lambda r: r.rru.get(READ_CACHE, 0.0)),
    ("  of which RealtimeTable (live audiences)", lambda r: r.rru.get("RealtimeTable", 0.0)),
    ("DynamoDB write units/s (average)", lambda r: sum(r.wru.values())),
    ("  of which ChangeFeedTable", lambda r: r.wru.get("ChangeFeedTable", 0.0)),
    (f"  of which {READ_CACHE} (with index copies)", lambda r: r.wru.get(READ_CACHE, 0.0)),
    ("  of which RealtimeTable", lambda r: r.wru.get("RealtimeTable", 0.0)),
    ("change-feed records delivered/s (average)", lambda r: r.records),
    ("failure-queue messages/day (1 in 10,000)", lambda r: r.records * FAILED_RECORD_SHARE * 86_400),
    ("WebSocket connections (peak)", lambda r: r.workload.connected_peak),
]


def run(costs: Costs, sizes: tuple[int, ...] = SIZES, template: Workload | None = None) -> list[Result]:
    template = template or Workload(entities=1)
    return [evaluate(replace(template, entities=n), costs) for n in sizes]


def _grid(heads: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in [heads, *rows]) for i in range(len(heads))]
    fit = [heads[0].ljust(widths[0]) + "".join("  " + h.rjust(w) for h, w in zip(heads[1:], widths[1:], strict=True))]
    for row in rows:
        fit.append(
            row[0].ljust(widths[0]) + "".join("  " + c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True))
        )
    return fit


def limit_rows(results: list[Result], costs: Costs, template: Workload) -> list[list[str]]:
    """Per check: its limit, load / limit (use) at each size, and the entities it is exceeded from."""
    rows = []
    for i, check in enumerate(results[0].checks):
        cells = []
        for r in results:
            c = r.checks[i]
            cells.append(f"{_n(c.load)} / {_n(c.limit)} ({c.utilisation:.0%}){' !' if c.exceeded else ''}")
        rows.append(
            [check.name, LIMITS[check.key].unit, *cells, _entities(entities_at_limit(check.name, costs, template))]
        )
    return rows


def first_hit(r: Result) -> str:
    if first := r.first:
        return f"{first.name}: {first.where} ({first.utilisation:.1f}x the limit)"
    return f"none (closest: {r.closest.name}, {r.closest.utilisation:.0%})"


def table(results: list[Result], costs: Costs, template: Workload | None = None) -> str:
    """Load per component, each limit's load / limit at each size, the first limit hit, the bill."""
    template = template or Workload(entities=1)
    heads = [_entities(r.workload.entities) for r in results]
    out = [f"Per-action costs measured {costs.measured_at} at {costs.commit}; the mix: docs/capacity.md", ""]
    out += _grid(["entities", *heads], [[label, *(_n(get(r)) for r in results)] for label, get in LOADS])
    out += ["", "Limits at the peak: load / limit (use), ! = exceeded"]
    out += _grid(["check", "unit", *heads, "exceeded from"], limit_rows(results, costs, template))
    out += ["", "Where each check looks (at the largest size):"]
    out += [f"  {c.name}: {c.where} — {LIMITS[c.key].what} [{LIMITS[c.key].kind}]" for c in results[-1].checks]
    out += ["", "First limit hit:"] + [f"  {h}: {first_hit(r)}" for h, r in zip(heads, results, strict=True)]
    bill = [[line, *(f"{r.cost[line]:,.0f}" for r in results)] for line in results[0].cost]
    bill.append(["total", *(f"{r.monthly:,.0f}" for r in results)])
    out += ["", *_grid(["monthly cost (USD, on-demand, us-east-1)", *heads], bill)]
    return "\n".join(out)


def actions_markdown(path: Path = COSTS) -> str:
    """The measured load of each action, as docs/capacity.md shows it (request path / change feed)."""
    raw = json.loads(path.read_text())["actions"]
    costs = load_costs(path)
    rows = [
        "| action | function | invocations (element + Fluorine) | SQL statements (request + change feed) | "
        "round trips on the request path | "
        "DynamoDB requests (request / change feed) | items | RRU | WRU (with index copies) | change-feed records |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name in sorted(raw):
        request, downstream, c = raw[name]["request"], raw[name]["downstream"], costs.actions[name]
        asked = [sum(t["requests"] for t in side["dynamodb"].values()) for side in (request, downstream)]
        items = sum(t.get("items", 0) for side in (request, downstream) for t in side["dynamodb"].values())
        calls = c.fluorine_calls + c.trigger_fluorine_calls
        trips = request["sql_statements"] + asked[0] + c.fluorine_calls
        units = f"{sum(c.rru.values()) + c.reader_rru:g} | {sum(c.wru.values()):g}"
        rows.append(
            f"| {name} | {c.function} | 1 + {calls:g} | {request['sql_statements']} + {downstream['sql_statements']} "
            f"| {trips:g} | {asked[0]:g} / {asked[1]:g} | {items:g} | {units} | {c.feed_records:g} |"
        )
    return "\n".join(rows)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench capacity", description=__doc__.split("\n")[0])
    parser.add_argument("--measure", action="store_true", help="re-measure bench/capacity_costs.json first (~20 s)")
    parser.add_argument("--plot", action="store_true", help=f"redraw {PLOT.relative_to(PLOT.parents[1])}")
    parser.add_argument("--entities", type=int, nargs="+", default=list(SIZES), help="sizes to show")
    parser.add_argument("--actions", action="store_true", help="print each action's measured load (markdown)")
    args = parser.parse_args(argv)
    if args.measure:
        from bench.capacity.measure import main as measure

        measure()
    costs = load_costs()
    print(actions_markdown() if args.actions else table(run(costs, tuple(args.entities)), costs))
    if args.plot:
        from bench.capacity.plot import draw

        print(f"wrote {draw(costs, PLOT)}")
    return 0
