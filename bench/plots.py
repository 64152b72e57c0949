"""The benchmark plots (docs/bench-*.png), drawn from bench/results.json's figures.

Each plot is drawn only when its figures are present, so ``python -m bench <topic>`` redraws what
it measured and leaves the others as they were.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

Figures = dict[str, dict[str, Any]]
SIZES = (10, 1_000, 100_000)


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    return plt


def coldstart(plt: Any, figures: Figures) -> Any:
    """Init, first and warm invocation per function (stacked init + first), the reference on top."""
    reference = "reference_powertools_handler"
    names = sorted({k.split(".")[1] for k in figures if k.startswith("coldstart.") and k.endswith(".init")})
    names = [n for n in names if n != reference] + [reference]
    value = {(n, part): figures[f"coldstart.{n}.{part}"]["value"] for n in names for part in ("init", "first", "warm")}
    fig, ax = plt.subplots(figsize=(9, 6.5))
    init = [value[n, "init"] for n in names]
    ax.barh(names, init, color="tab:blue", label="init: import, module-level work (an on-demand init's eager prime)")
    ax.barh(names, [value[n, "first"] for n in names], left=init, color="tab:orange", label="first invocation")
    ax.scatter([value[n, "warm"] for n in names], names, color="black", marker="|", s=120, label="warm invocation")
    total = figures[f"coldstart.{reference}.init_plus_first"]["value"]
    ax.axvline(total, color="tab:red", label=f"reference init+first ({total:.0f} ms)")
    ax.axvline(0.75 * total, color="tab:red", linestyle="--", label="goal for the median function: 0.75x")
    ax.set_xlabel("ms in a fresh interpreter (median); the machine is shared: indicative")
    ax.set_title("Cold start by function: init, then the first invocation of its most common event")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, fontsize=7)
    return fig


def scale(plt: Any, figures: Figures) -> Any:
    series = {"inbox": "rhenium.inbox_page_{}_messages", "members": "scale.members_page_{}_items"}
    series["wallet history"] = "scale.wallet_history_page_{}_items"
    fig, (latency, reads) = plt.subplots(1, 2, figsize=(10, 4))
    for label, pattern in series.items():
        p50 = [figures.get(pattern.format(n) + "_p50", {}).get("value") for n in SIZES]
        read_key = "_items_read" if label == "inbox" else "_read"
        items = [figures.get(pattern.format(n) + read_key, {}).get("value") for n in SIZES]
        if None not in p50:
            latency.plot(SIZES, p50, marker="o", label=label)
        if None not in items:
            reads.plot(SIZES, items, marker="o", label=label)
    for ax, title in ((latency, "page p50 (ms), real handler"), (reads, "items read per page")):
        ax.set_xscale("log")
        ax.set_xlabel("items in the collection")
        ax.set_ylim(bottom=0)
        ax.set_title(title)
        ax.legend(fontsize=8)
    fig.suptitle("A page costs the same at 10 or 100,000 items (limit 20)")
    return fig


def contention(plt: Any, figures: Figures) -> Any:
    clients = (1, 8, 32)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for layout, style in (("hot", "-"), ("spread", "--")):
        names = [f"nickel.transfers_per_second_{layout}_{n}_clients" for n in clients]
        if any(name not in figures for name in names):
            continue
        rows = [figures[name] for name in names]
        ax.plot(clients, [r["value"] for r in rows], style, marker="o", label=f"command bus, {layout}")
        ax.plot(clients, [r["baseline_value"] for r in rows], style, marker="x", label=f"raw SQL floor, {layout}")
        builtin = {"hot": "tpcb_like", "spread": "simple_update"}[layout]
        pgbench = [figures.get(f"nickel.transfers_{layout}_vs_pgbench_{builtin}_{n}_clients") for n in clients]
        if all(f is not None and f.get("baseline_value") for f in pgbench):
            tps = [f["baseline_value"] for f in pgbench if f is not None]
            ax.plot(clients, tps, style, marker="s", label=f"pgbench {builtin.replace('_', '-')} (scale 1)")
    ax.set_xscale("log", base=2)
    ax.set_xticks(clients, [str(n) for n in clients])
    ax.set_xlabel("concurrent clients")
    ax.set_ylabel("transfers (pgbench: transactions) per second")
    ax.set_yscale("log")
    ax.set_title("Ledger throughput: hot (3 accounts) and spread (64), beside pgbench")
    ax.legend(fontsize=8)
    return fig


def latency(plt: Any, figures: Figures) -> Any:
    routes = sorted({k[5:-4] for k in figures if k.startswith("warm.") and k.endswith("_p50")})
    fig, ax = plt.subplots(figsize=(9, 4.5))
    width, xs = 0.2, range(len(routes))
    bars = (("p50", "route p50", 0), ("p50", "floor p50", 1), ("p99", "route p99", 2), ("p99", "floor p99", 3))
    for pct, label, slot in bars:
        rows = [figures[f"warm.{r}_{pct}"] for r in routes]
        values = [row["value"] if label.startswith("route") else row["baseline_value"] for row in rows]
        ax.bar([x + (slot - 1.5) * width for x in xs], values, width, label=label)
    ax.set_xticks(list(xs), routes)
    ax.set_ylabel("ms (in-process, moto, local PostgreSQL)")
    ax.set_title("Warm path: each route beside the raw floor of its own I/O")
    ax.legend(fontsize=8)
    return fig


def inbox_groups(plt: Any, figures: Figures) -> Any:
    """An inbox page's requests and p50 against the reader's groups: copies (fan-out on write)
    beside every group read at read time."""
    counts = sorted(
        int(k.split("_")[2])
        for k in figures
        if k.startswith("rhenium.inbox_page_") and k.endswith("_groups_requests") and k.split("_")[2].isdigit()
    )
    fig, (requests, latency) = plt.subplots(1, 2, figsize=(10, 4))
    kinds = (("", "small groups: copies in the reader's inbox"), ("_read_time", "every group read at read time"))
    for kind, label in kinds:
        for ax, metric in ((requests, "requests"), (latency, "p50")):
            values = [figures.get(f"rhenium.inbox_page_{n}_groups{kind}_{metric}", {}).get("value") for n in counts]
            if counts and None not in values:
                ax.plot(counts, values, marker="o", label=label)
    for ax, title in ((requests, "DynamoDB requests per page"), (latency, "page p50 (ms), 5 ms per request")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("groups the reader is in")
        ax.set_title(title)
        ax.legend(fontsize=8)
    fig.suptitle("Inbox page cost against the reader's groups (hybrid fan-out)")
    return fig


PLOTS: dict[str, tuple[str, Callable[[Any, Figures], Any]]] = {
    "bench-inbox-groups.png": ("rhenium.inbox_page_1_groups_requests", inbox_groups),
    "bench-coldstart.png": ("coldstart.reference_powertools_handler.init", coldstart),
    "bench-scale.png": ("scale.members_page_10_items_p50", scale),
    "bench-contention.png": ("nickel.transfers_per_second_hot_8_clients", contention),
    "bench-latency.png": ("warm.transfer_p50", latency),
}


def draw(results: dict[str, Any], out: Path, measured: set[str]) -> list[Path]:
    """Redraw every plot whose figures were measured in this run; the files written."""
    plt = _pyplot()
    figures = {f["name"]: f for f in results["figures"]}
    written = []
    for filename, (needs, plot) in PLOTS.items():
        if needs not in figures or needs.split(".")[0] not in measured:
            continue
        fig = plot(plt, figures)
        fig.tight_layout()
        fig.savefig(out / filename, dpi=110)
        plt.close(fig)
        written.append(out / filename)
    return written
