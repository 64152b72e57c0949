"""The local stack's CloudWatch: the embedded-metric-format lines its functions print, collected.

Deployed, CloudWatch reads the functions' EMF log lines (``shared.observability``) and turns them
into metrics. Locally the functions run in this process, so standard output is wrapped: an EMF
line is taken out of the console and counted here, every other line passes through unchanged.
The gateway serves the result at ``GET /local/metrics`` (JSON) and ``GET /local/dashboard``
(a server-rendered page that refreshes itself; no script, nothing fetched from elsewhere).
"""

from __future__ import annotations

import html
import json
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, TextIO

LAG_SAMPLES = 2000  # the newest read-side lag values kept for percentiles
LAG_METRIC = "ProjectionLag"


@dataclass
class Series:
    """One metric under one set of dimensions: what CloudWatch's statistics would show."""

    samples: int = 0
    total: float = 0.0
    low: float | None = None
    high: float | None = None
    last: float | None = None

    def add(self, value: float) -> None:
        self.samples += 1
        self.total += value
        self.low = value if self.low is None else min(self.low, value)
        self.high = value if self.high is None else max(self.high, value)
        self.last = value


@dataclass
class Collector:
    started: float = field(default_factory=time.time)
    series: dict[tuple[str, tuple[tuple[str, str], ...]], Series] = field(default_factory=dict)
    lags: list[float] = field(default_factory=list)
    lines: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, line: str) -> bool:
        """Collect ``line`` if it is an EMF document; whether it was one."""
        if not line.startswith('{"_aws"'):
            return False
        try:
            document = json.loads(line)
            directives = document["_aws"]["CloudWatchMetrics"]
        except (ValueError, KeyError, TypeError):
            return False
        with self._lock:
            self.lines += 1
            for directive in directives:
                names = {name for dimension_set in directive.get("Dimensions", []) for name in dimension_set}
                dimensions = tuple(sorted((name, str(document.get(name, ""))) for name in names))
                for metric in directive.get("Metrics", []):
                    values = document.get(metric["Name"], [])
                    for value in values if isinstance(values, list) else [values]:
                        self._add(metric["Name"], dimensions, float(value))
        return True

    def _add(self, name: str, dimensions: tuple[tuple[str, str], ...], value: float) -> None:
        self.series.setdefault((name, dimensions), Series()).add(value)
        if name == LAG_METRIC:
            self.lags.append(value)
            del self.lags[:-LAG_SAMPLES]

    def summary(self) -> dict[str, Any]:
        """Totals per metric, per dimension, and the read side's lag percentiles."""
        with self._lock:
            series: list[dict[str, Any]] = [
                {
                    "name": name,
                    "dimensions": dict(dimensions),
                    "samples": s.samples,
                    "sum": s.total,
                    "min": s.low,
                    "max": s.high,
                    "last": s.last,
                }
                for (name, dimensions), s in sorted(self.series.items())
            ]
            lags = sorted(self.lags)
        totals: dict[str, float] = {}
        for entry in series:
            totals[entry["name"]] = totals.get(entry["name"], 0.0) + entry["sum"]
        return {
            "since": self.started,
            "emf_lines": self.lines,
            "totals": totals,
            "by": {
                "requests_by_element": _by(series, "Requests", "element"),
                "errors_by_code": _by(series, "ErrorAnswers", "code"),
                "events_by_type": _by(series, "Events", "event"),
                "value_moved_by_asset": _by(series, "ValueMoved", "asset"),
            },
            "read_side_lag_ms": {
                "samples": len(lags),
                "p50": _percentile(lags, 0.50),
                "p99": _percentile(lags, 0.99),
                "max": lags[-1] if lags else None,
            },
            "series": series,
        }


def _by(series: list[dict[str, Any]], name: str, dimension: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for entry in series:
        if entry["name"] == name:
            key = entry["dimensions"].get(dimension, "")
            out[key] = out.get(key, 0.0) + entry["sum"]
    return dict(sorted(out.items()))


def _percentile(ordered: list[float], fraction: float) -> float | None:
    if not ordered:
        return None
    return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))], 1)


class EmfTee:
    """Standard output, minus the EMF lines (collected instead). ``print`` writes a line's text and
    its newline in two calls, and functions print from several threads: each thread assembles its
    own line."""

    def __init__(self, stream: TextIO, collector: Collector) -> None:
        self._stream = stream
        self._collector = collector
        self._pending = threading.local()

    def write(self, text: str) -> int:
        pending = getattr(self._pending, "text", "") + text
        *complete, rest = pending.split("\n")
        self._pending.text = rest
        for line in complete:
            if not self._collector.take(line):
                self._stream.write(line + "\n")
        if rest and not rest.startswith("{"):  # not an EMF line in the making: show it as it comes
            self._stream.write(rest)
            self._pending.text = ""
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def install() -> Collector:
    """Wrap this process's standard output; the collector the gateway serves."""
    collector = Collector()
    sys.stdout = EmfTee(sys.stdout, collector)  # type: ignore[assignment]
    return collector


def dashboard(summary: dict[str, Any]) -> str:
    """The summary as a small HTML page (refreshes every 5 s)."""

    def table(title: str, rows: dict[str, Any]) -> str:
        body = (
            "".join(f"<tr><td>{html.escape(str(k))}</td><td>{_number(v)}</td></tr>" for k, v in rows.items())
            or '<tr><td colspan="2">nothing yet</td></tr>'
        )
        return f"<section><h2>{html.escape(title)}</h2><table>{body}</table></section>"

    lag = summary["read_side_lag_ms"]
    lag_rows = {"p50 (ms)": lag["p50"], "p99 (ms)": lag["p99"], "max (ms)": lag["max"], "records": lag["samples"]}
    sections = [
        table("Read side lag: commit to projected", lag_rows),
        table("Requests by element", summary["by"]["requests_by_element"]),
        table("Error answers by code", summary["by"]["errors_by_code"]),
        table("Business events", summary["by"]["events_by_type"]),
        table("Value moved by asset", summary["by"]["value_moved_by_asset"]),
        table("Every metric (totals)", summary["totals"]),
    ]
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(summary["since"]))
    return (
        "<!doctype html><html><head><meta charset=utf-8>"
        '<meta http-equiv="refresh" content="5"><title>Elements - local dashboard</title>'
        "<style>body{font-family:sans-serif;margin:2em}section{display:inline-block;vertical-align:top;"
        "margin:0 2em 2em 0}td{padding:2px 12px;border-bottom:1px solid #ddd}td:last-child{text-align:right}"
        "</style></head><body><h1>Elements - local dashboard</h1>"
        f"<p>Since {started}: {summary['emf_lines']} metric lines from the functions. "
        'JSON: <a href="/local/metrics">/local/metrics</a>.</p>' + "".join(sections) + "</body></html>"
    )


def _number(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and value.is_integer():
        return f"{int(value):,}"
    return f"{value:,}" if isinstance(value, (int, float)) else html.escape(str(value))
