"""Where a transfer's time goes (issue 14): round trips, database time, lock hold, publish, internal call.

- **Round trips** per command, counted on the wire: libpq's trace of the bus's connection, one
  round trip per ``Sync`` (extended protocol, or a pipeline's sync) or simple ``Query`` it sends.
- **The posting statement alone**, driven by pgbench itself (``-f``, no Python, one connection per
  client, autocommit) on the topic's accounts: what the database does per transfer, beside
  pgbench's own transactions on the same server. Its latency at 1 client is the database time
  per transfer (one round trip included, against tpcb-like's seven).
- **WAL bytes per transfer** (the server-wide WAL insert position before and after a fixed number
  of postings at 1 client, driven by pgbench) beside tpcb-like's per transaction: what the
  database writes per transfer, the same on any machine (full-page images included as they come).
- **CPU per transfer at 8 clients**: the machine's busy CPU time (``/proc/stat``: user, nice,
  system, irq, softirq) over a run, per transfer, through the bus (and of that, the client
  processes' own, from ``os.times``), with the statement alone driven by pgbench, and per
  pgbench simple-update transaction. On 2 cores, throughput at 8 clients is bounded by it.
- **Publish** (what Fluorine does after COMMIT: one conditional PutItem per change record, then
  marking them published) and **the internal call** (the element's ``internal.call``: the command
  and the answer as JSON both ways through pydantic, in process here; a Lambda Invoke deployed):
  measured at 1 client by alternating the bus alone, Fluorine's handler (bus + publish), and
  ``internal.call`` (handler + the call), on moto in-process.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from bench.harness import sized

COST_RUNS = sized(150, 5)

# Random sender and receiver among the topic's ``n`` accounts (``bench_holders``), 1 unit, with a key.
POSTING_SCRIPT = """\\set a random(1, {n})
\\set b random(1, {m})
SELECT nickel_post_one('transfer', gen_random_uuid(), '{asset}', s.id, r.id, 1, NULL,
                       s.id, gen_random_uuid()::text, 'pgbench', 'post_transfer', NULL)
FROM bench_holders s, bench_holders r WHERE s.n = :a AND r.n = 1 + (:a + :b - 1) % {n};
"""


def busy_cpu_seconds() -> float | None:
    """The machine's busy CPU time so far (user, nice, system, irq, softirq; not idle, iowait or
    steal), all cores, in seconds; None where ``/proc/stat`` does not exist (not Linux)."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:8]]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq = fields
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def wal_position(conn: psycopg.Connection) -> int:
    """The server's WAL insert position, in bytes (server-wide: every database on it)."""
    row = conn.execute("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint").fetchone()
    assert row is not None
    return int(row[0])


def round_trips(conn: psycopg.Connection, call: Callable[[], Any]) -> int:
    """The round trips ``call`` makes on ``conn``: the Syncs and simple Queries libpq sends."""
    with tempfile.NamedTemporaryFile("w+", suffix=".trace") as trace:
        from psycopg.pq import Trace

        conn.pgconn.trace(trace.fileno())
        conn.pgconn.set_trace_flags(Trace.SUPPRESS_TIMESTAMPS | Trace.REGRESS_MODE)
        try:
            call()
        finally:
            conn.pgconn.untrace()
        lines = Path(trace.name).read_text().splitlines()
    sent = [line.split("\t") for line in lines if "\tF\t" in line or line.startswith("F\t")]
    return sum(1 for words in sent if any(w.startswith(("Sync", "Query")) for w in words))


def holders_table(url: str, groups: dict[str, list[uuid.UUID]]) -> None:
    """``bench_holders_<layout>`` (n, id): the topic's accounts numbered from 1, for pgbench scripts."""
    with psycopg.connect(url, autocommit=True) as conn:
        for layout, ids in groups.items():
            conn.execute(f"CREATE TABLE bench_holders_{layout} (n integer PRIMARY KEY, id uuid NOT NULL)")
            with conn.cursor().copy(f"COPY bench_holders_{layout} (n, id) FROM STDIN") as copy:
                for n, holder in enumerate(ids, start=1):
                    copy.write_row((n, holder))


def posting_script(layout: str, accounts: int, asset: str) -> str:
    """A pgbench script file posting one transfer per transaction among ``layout``'s accounts."""
    text = POSTING_SCRIPT.format(n=accounts, m=accounts - 1, asset=asset).replace(
        "bench_holders", f"bench_holders_{layout}"
    )
    handle, path = tempfile.mkstemp(prefix=f"nickel-{layout}-", suffix=".sql")
    os.write(handle, text.encode())
    os.close(handle)
    return path


def alternated_ms(calls: dict[str, Callable[[], Any]], runs: int = COST_RUNS) -> dict[str, float]:
    """Median milliseconds of each call, the calls alternated one by one (load hits them alike)."""
    for call in calls.values():
        call()
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(runs):
        for name, call in calls.items():
            began = time.perf_counter()
            call()
            samples[name].append((time.perf_counter() - began) * 1000)
    return {name: statistics.median(values) for name, values in samples.items()}
