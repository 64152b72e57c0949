"""docs/capacity.png: the model's load on each component against entities, with its limits drawn
(``python -m bench capacity --plot``). Dashed lines: the same with the fixes docs/capacity.md
recommends (a 5 s per-container cache of the platform page, every group's readers queried, none scanned)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.capacity.costs import Costs
from bench.capacity.limits import (
    AURORA_MAX_ACU,
    LAMBDA_MAX_TIMEOUT_S,
    LIMITS,
    PROXY_MAX_CONNECTIONS_PERCENT,
    max_connections,
)
from bench.capacity.model import Deployment, Result, Workload, evaluate

FIXED = Deployment(group_audience_by_members=True, pbox_cache_seconds=5)
Panel = tuple[str, str, list[tuple[str, Callable[[Result], float]]], list[tuple[str, float]]]


def _limit(key: str) -> tuple[str, float]:
    limit = LIMITS[key]
    return f"{limit.kind}: {limit.value:,.0f}", limit.value


PANELS: list[Panel] = [
    (
        "API Gateway, peak",
        "requests/s",
        [
            ("REST (all routes)", lambda r: r.check("api_stage_rps").load),
            ("POST /v1/auth/token", lambda r: r.check("api_login_rps").load),
        ],
        [_limit("api_stage_rps"), _limit("api_login_rps"), _limit("api_account_rps")],
    ),
    (
        "Lambda, peak",
        "concurrent executions",
        [("all functions", lambda r: r.check("lambda_concurrency").load)],
        [_limit("lambda_concurrency")],
    ),
    (
        "DynamoDB hot partitions, peak",
        "read units/s",
        [
            ("pbox", lambda r: r.check("partition_read:pbox").load),
            ("largest group's gbox", lambda r: r.check("partition_read:gbox").load),
        ],
        [_limit("partition_read")],
    ),
    (
        "Rhenium trigger (stream), peak",
        "busy share of each shard",
        [("per shard", lambda r: r.check("trigger_shard_rate").utilisation)],
        [("full", 1.0)],
    ),
    (
        "Live delivery of one platform broadcast",
        "seconds",
        [("to every connection", lambda r: r.check("trigger_timeout").load)],
        [_limit("trigger_timeout"), ("hard: Lambda's 900", LAMBDA_MAX_TIMEOUT_S)],
    ),
    (
        "Aurora writer, peak",
        "ACU",
        [("capacity needed", lambda r: r.check("aurora_acu").load)],
        [_limit("aurora_acu"), ("hard: 256", AURORA_MAX_ACU)],
    ),
    (
        "Aurora connections (via RDS Proxy), peak",
        "connections",
        [("Fluorine executions", lambda r: r.check("aurora_connections").load)],
        [("configured: 90% of max_connections at 8 ACU", PROXY_MAX_CONNECTIONS_PERCENT * max_connections(8))],
    ),
    ("Monthly cost (on-demand, us-east-1)", "USD", [("total", lambda r: r.monthly)], []),
]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    return plt


def draw(costs: Costs, out: Path, points: int = 31) -> Path:
    plt = _pyplot()
    sizes = [int(10 ** (3 + 5 * i / (points - 1))) for i in range(points)]
    as_deployed = [evaluate(Workload(n), costs) for n in sizes]
    fixed = [evaluate(Workload(n), costs, dep=FIXED) for n in sizes]
    fig, axes = plt.subplots(2, 4, figsize=(18, 8.5))
    for ax, (title, unit, series, limits) in zip(axes.flat, PANELS, strict=True):
        for (label, get), color in zip(series, ("tab:blue", "tab:green"), strict=False):
            ax.plot(sizes, [get(r) for r in as_deployed], color=color, label=label)
            ax.plot(sizes, [get(r) for r in fixed], color=color, linestyle="--", linewidth=1)
        for (label, value), color in zip(limits, ("tab:red", "tab:orange", "tab:purple"), strict=False):
            ax.axhline(value, color=color, linewidth=1, label=label)
        for n in (10_000, 1_000_000, 10_000_000):
            ax.axvline(n, color="0.85", linewidth=0.8, zorder=0)
        ax.set(xscale="log", yscale="log", title=title, ylabel=unit, xlabel="entities")
        ax.legend(fontsize=7, loc="upper left")
    fig.suptitle("Load against entities, limits drawn (solid: the default model; dashed: with the what-ifs)")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out
