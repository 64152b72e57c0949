"""The results table of docs/benchmarks.md, rewritten from bench/results.json after each run.

Only the text between the two markers is replaced; the rest of the page is written by hand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"


def _number(value: float | None) -> str:
    if value is None:
        return ""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"


def _goal(figure: dict[str, Any]) -> str:
    if "goal" not in figure:
        return ""
    verdict = {True: "**met**", False: "**missed**", None: "n/a"}[figure.get("goal_met")]
    return f"{verdict}: {figure['goal']}"


def _load_line(results: dict[str, Any]) -> list[str]:
    """Under what load each topic's figures were taken (the 1-minute load average before -> after)."""
    load = results.get("load_average_1min", {})
    if not load:
        return ["Load average: not recorded for these figures (taken before the runner recorded it).", ""]
    cpus = results["machine"]["cpus"]
    parts = [f"{topic} {v['before']:.2f} → {v['after']:.2f}" for topic, v in sorted(load.items())]
    missing = sorted({f["name"].split(".")[0] for f in results["figures"]} - set(load))
    unknown = f"; not recorded for {', '.join(missing)} (older runs)" if missing else ""
    return [f"1-minute load average before → after each topic ({cpus} cores): {', '.join(parts)}{unknown}.", ""]


def table(results: dict[str, Any]) -> str:
    machine = results["machine"]
    seconds = results.get("seconds", {})
    lines = [
        f"Measured on {machine['cpus']} CPUs, Python {machine['python']}, {machine['platform']}; "
        f"last run took {seconds.get('last_run_total', 0):.0f} s.",
        "",
        *_load_line(results),
        "| figure | value | unit | compared with | baseline | ratio | goal |",
        "|---|---:|---|---|---:|---:|---|",
    ]
    for f in results["figures"]:
        ratio = "" if f.get("ratio") is None else f"{f['ratio']:.2f}"
        lines.append(
            f"| `{f['name']}` | {_number(f['value'])} | {f['unit']} | {f.get('baseline') or ''} "
            f"| {_number(f.get('baseline_value'))} | {ratio} | {_goal(f)} |"
        )
    return "\n".join(lines)


def update(doc: Path, results: dict[str, Any]) -> bool:
    """Rewrite the table in ``doc``; False when the page (or its markers) is missing."""
    if not doc.exists():
        return False
    text = doc.read_text()
    if BEGIN not in text or END not in text:
        return False
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    doc.write_text(f"{head}{BEGIN}\n{table(results)}\n{END}{tail}")
    return True
