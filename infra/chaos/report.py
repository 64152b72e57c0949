"""The figures of a chaos run as Markdown, and their place in docs/reliability.md."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.chaos.checks import Check

BEGIN, END = "<!-- chaos-run:begin -->", "<!-- chaos-run:end -->"
COMMAND = "make chaos"


@dataclass
class Figures:
    run: str
    seed: int
    clients: int
    operations: int  # per client
    stats: list[dict[str, Any]]  # per client (infra.chaos.client.Stats)
    kills: list[dict[str, Any]]
    checks: list[Check]
    duplicates: int
    settle_seconds: float
    seconds: float

    def total(self, name: str) -> int:
        return sum(len(s[name]) if isinstance(s[name], list) else int(s[name]) for s in self.stats)


def passed(figures: Figures) -> bool:
    return all(c.passed for c in figures.checks) and figures.total("lost") == 0 and figures.total("unexpected") == 0


def markdown(f: Figures) -> str:
    requests, ops = f.total("requests"), f.total("operations")
    lines = [
        f'Run `{f.run}` (`{COMMAND} CHAOS_ARGS="--seed {f.seed}"` repeats its workload): {f.clients} client'
        f" processes, {f.operations} operations each after their set-up, {f.seconds:.0f} s in all.",
        "",
        "| requests sent | operations | acknowledged | kills | retries | recovered | lost | unexpected answers"
        " | duplicates (unkeyed retries) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {requests} | {ops} | {ops - f.total('lost')} | {len(f.kills)} | {f.total('retries')}"
        f" | {f.total('recovered')} | {f.total('lost')} | {f.total('unexpected')} | {f.duplicates} |",
        "",
        "| kill | at (s) | operations done | when | recovery (kill → serving, catch-up included)"
        " | catch-up at restart |",
        "| ---: | ---: | ---: | --- | ---: | --- |",
    ]
    for n, kill in enumerate(f.kills, start=1):
        lines.append(
            f"| {n} | {kill['at']:.1f} | {kill['operations']} | {kill['after']} | {kill['recovery']:.1f} s"
            f" | {kill['catch_up']} |"
        )
    lines += ["", "| check at the end | result | |", "| --- | --- | --- |"]
    for check in f.checks:
        lines.append(f"| {check.name} | {check.figure} | {'passed' if check.passed else '**FAILED**'} |")
    lines.append(f"\n(`verify` ran {f.settle_seconds:.1f} s after the workload ended, the change feed settled.)")
    problems = [f"- {c.name}: {d}" for c in f.checks for d in c.details[:20]]
    problems += [f"- unexpected: {u}" for s in f.stats for u in s["unexpected"][:20]]
    if problems:
        lines += ["", "Problems:", *problems]
    return "\n".join(lines)


def record(path: Path, text: str) -> None:
    """Replace the text between the chaos markers of ``path`` with ``text``."""
    document = path.read_text()
    if BEGIN not in document or END not in document:
        raise ValueError(f"{path} has no {BEGIN} ... {END} section")
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.DOTALL)
    path.write_text(pattern.sub(lambda _: f"{BEGIN}\n{text}\n{END}", document))
