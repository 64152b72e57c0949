"""Nickel's ledger throughput: transfers per second at 1, 8 and 32 concurrent clients, and
two-phase payments (a hold, then its capture) per second at 8; and the same transfer figures
beside PostgreSQL's own benchmark, pgbench, on the same server (``bench/pgbench_floor.py``).

Each client is a process (forked after the set-up: its own interpreter and its own PostgreSQL
connection, as each concurrent Lambda execution environment is) posting 1-unit transfers for a
fixed time. ``bus`` goes through Fluorine's command bus in-process (``PostTransfer`` with an
idempotency key: parse, claim the key, lock, post, emit, remember; publishing to the change feed
is skipped); the baseline ``raw SQL`` issues the same statements (the caller check included)
directly with psycopg, so the
ratio is what the bus and pydantic cost over the database's own floor. ``hot`` posts among 3
accounts (every transfer waits for the row locks of the ones before it); ``spread`` among 64.

``hold + capture``: each client places a 1-unit hold (``PlaceHold``, as the payer) and captures it
(``CaptureHold``, as the payee), both through the bus with keys; one settled payment is two
transactions, so its baseline is plain transfers through the bus on the same accounts and clients,
measured right before it. The goal: at least half their rate, i.e. a two-step payment costs no more
than two plain ones.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from unittest.mock import patch

import psycopg
from psycopg import errors as pg_errors

from bench.harness import SMOKE, BenchEnv, Figure, Goal, sized
from bench.pgbench_floor import Floor, pgbench_floor
from fluorine.commands.nickel_ledger import GATED, POST_ONE_CALL
from shared.internal import Actor

SECONDS = sized(2.5, 0.1)
CLIENTS = sized((1, 8, 32), (1, 2))
SPREAD = sized(64, 4)
ASSET = "BENCH"
FUNDS = 10**12

Pair = tuple[uuid.UUID, uuid.UUID]
FORK = multiprocessing.get_context("fork")  # clients inherit the set-up (accounts, sessions), not its connections
HOT_GOAL = Goal("ratio_at_least", 0.5, "at least half the raw-SQL floor's throughput at 8 clients on hot accounts")
HOLD_CLIENTS = sized(8, 2)
HOLD_ROUNDS = sized(4, 1)  # plain and two-phase windows alternate, so a busy moment hits both alike
HOLD_GOAL = Goal("ratio_at_least", 0.5, "a hold and its capture at least half the plain transfers' rate at 8 clients")


# PostgreSQL's own benchmark on the same server (bench/pgbench_floor.py): hot transfers against
# tpcb-like (one hot branch row at scale 1), spread ones against simple-update (spread over
# 100,000 accounts), each at the same number of clients, measured right after the transfers.
PGBENCH = {"hot": "tpcb-like", "spread": "simple-update"}
PGBENCH_SECONDS = sized(3, None)  # a smoke run makes a few transactions at 1 client instead
DB_TIME_ROUNDS, DB_TIME_SECONDS = sized(3, 1), sized(2, None)
ROUND_TRIP, PUBLISH_RUNS = sized(0.005, 0.001), sized(30, 2)  # a DynamoDB request's round trip, deployed
PUBLISH_GOAL = Goal("ratio_at_most", 1.5, "a transfer's publish (3 records) at most 1.5x publishing one record")
WAL_POSTINGS = sized(1000, 10)  # transactions per WAL measurement, at 1 client
CPU_POSTINGS_EACH, CPU_PGBENCH_EACH = sized(300, 3), sized(1000, 3)  # per client: about 2 s each at 8 clients
PGBENCH_GOALS = {
    "hot": Goal("ratio_at_least", 0.5, "hot transfers at least 0.5x pgbench tpcb-like (scale 1) at 8 clients"),
    "spread": Goal(
        "ratio_at_least", 0.35, "spread transfers at least 0.35x pgbench simple-update (scale 1) at 8 clients"
    ),
}

SESSIONS: dict[uuid.UUID, Actor] = {}  # each holder signed in once: the actor of its transfers
ADMIN: list[Actor] = []  # the platform admin who created the asset: the actor of issuances
ISSUE_GOAL = Goal("ratio_at_least", 0.5, "issuance on one asset at least 0.5x spread transfers at 8 clients")
DB_TIME_GOAL = Goal("ratio_at_most", 2.0, "database time per transfer at most 2x pgbench tpcb-like's per transaction")


def _setup(sizes: dict[str, int]) -> dict[str, list[uuid.UUID]]:
    from fluorine import bus
    from shared.contracts.nickel import CreateAsset, IssueAsset
    from tests.support.factories import admin_actor, register_entity, start_session

    admin = admin_actor()
    ADMIN.append(admin)
    bus.execute(CreateAsset(code=ASSET, name="Bench coin", scale=2).model_dump(mode="json"), actor=admin)
    groups = {name: [register_entity()[0].id for _ in range(n)] for name, n in sizes.items()}
    for holder in (h for members in groups.values() for h in members):
        command = IssueAsset(id=uuid.uuid4(), asset=ASSET, to=holder, amount=FUNDS)
        bus.execute(command.model_dump(mode="json"), actor=admin)
        SESSIONS[holder] = start_session(holder)[0]
    return groups


def _via_bus(url: str, conn: psycopg.Connection | None = None) -> Callable[[Pair], None]:
    from fluorine import bus
    from shared.contracts.changes import Idempotency
    from shared.contracts.nickel import PostTransfer

    conn = conn or psycopg.connect(url)

    def post(pair: Pair) -> None:
        idem = Idempotency(caller_id=str(pair[0]), key=uuid.uuid4().hex, fingerprint="bench")
        command = PostTransfer(
            id=uuid.uuid4(), from_entity=pair[0], to=pair[1], asset=ASSET, amount=1, idempotency=idem
        )
        bus.execute(command.model_dump(mode="json"), conn, actor=SESSIONS[pair[0]])

    return post


def _issue(url: str, conn: psycopg.Connection | None = None) -> Callable[[Pair], None]:
    """The admin issues 1 unit of the one asset to the pair's second holder (with a key)."""
    from fluorine import bus
    from shared.contracts.changes import Idempotency
    from shared.contracts.nickel import IssueAsset

    conn = conn or psycopg.connect(url)

    def issue(pair: Pair) -> None:
        admin = ADMIN[0]
        idem = Idempotency(caller_id=str(admin.entity_id), key=uuid.uuid4().hex, fingerprint="bench")
        command = IssueAsset(id=uuid.uuid4(), asset=ASSET, to=pair[1], amount=1, idempotency=idem)
        bus.execute(command.model_dump(mode="json"), conn, actor=admin)

    return issue


def _hold_and_capture(url: str, conn: psycopg.Connection | None = None) -> Callable[[Pair], None]:
    """One settled two-phase payment per call: the payer holds 1 unit, the payee captures it."""
    from fluorine import bus
    from shared.contracts.changes import Idempotency
    from shared.contracts.nickel_holds import CaptureHold, PlaceHold

    conn = conn or psycopg.connect(url)

    def pay(pair: Pair) -> None:
        payer, payee = pair
        hold = PlaceHold(id=uuid.uuid4(), from_entity=payer, to=payee, asset=ASSET, amount=1)
        hold.idempotency = Idempotency(caller_id=str(payer), key=uuid.uuid4().hex, fingerprint="bench")
        placed = bus.execute(hold.model_dump(mode="json"), conn, actor=SESSIONS[payer])
        capture = CaptureHold(id=uuid.uuid4(), hold_id=placed.result["id"], payee=payee)
        capture.idempotency = Idempotency(caller_id=str(payee), key=uuid.uuid4().hex, fingerprint="bench")
        bus.execute(capture.model_dump(mode="json"), conn, actor=SESSIONS[payee])

    return pay


def _raw_once(conn: psycopg.Connection, pair: Pair) -> None:
    """The statement ``PostTransfer`` sends, without the bus: the caller check gating the posting
    function (claim, checks, locks, journal row, events, the key's answer) in one autocommit statement."""
    sender, receiver, key, transfer_id = pair[0], pair[1], uuid.uuid4().hex, uuid.uuid4()
    gate = (SESSIONS[sender].session_id, sender, False)
    claim = (str(sender), key, "bench", "post_transfer")
    params = (*gate, "transfer", transfer_id, ASSET, sender, receiver, 1, None, *claim, None)
    conn.execute(GATED.format(call=POST_ONE_CALL), params).fetchone()


def _via_raw(url: str) -> Callable[[Pair], None]:
    conn = psycopg.connect(url, autocommit=True)

    def post(pair: Pair) -> None:
        for _ in range(6):  # what the bus does on a serialization failure or deadlock
            try:
                return _raw_once(conn, pair)
            except (pg_errors.SerializationFailure, pg_errors.DeadlockDetected):
                time.sleep(0.005)
        raise RuntimeError("gave up after retries")

    return post


def _throughput(
    make_client: Callable[[str], Callable[[Pair], None]],
    url: str,
    accounts: list[uuid.UUID],
    n: int,
    seconds: float = SECONDS,
) -> float:
    """Calls per second with ``n`` client processes, each calling with random pairs of ``accounts``."""
    calls, elapsed = _run_clients(make_client, url, accounts, n, seconds)
    return calls / elapsed


def _run_clients(
    make_client: Callable[[str], Callable[[Pair], None]],
    url: str,
    accounts: list[uuid.UUID],
    n: int,
    seconds: float = SECONDS,
) -> tuple[int, float]:
    """(calls made, seconds taken) by ``n`` client processes calling for ``seconds``.

    Each client is a process forked from this one (its own interpreter and GIL, and its own
    connection, opened after the fork), as each concurrent Lambda execution environment is.
    """
    pairs = [(a, b) for a in accounts for b in accounts if a != b]
    ready, stop = FORK.Barrier(n + 1), FORK.Event()
    counts = FORK.Array("q", n, lock=False)
    clients = [FORK.Process(target=_client, args=(make_client, url, pairs, i, ready, stop, counts)) for i in range(n)]
    for client in clients:
        client.start()
    ready.wait()
    began = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for client in clients:
        client.join()
    if any(client.exitcode != 0 for client in clients):
        raise RuntimeError(f"a client process failed: exit codes {[c.exitcode for c in clients]}")
    return int(sum(counts)), time.perf_counter() - began


def _client(
    make_client: Callable[[str], Callable[[Pair], None]],
    url: str,
    pairs: list[Pair],
    i: int,
    ready: Any,
    stop: Any,
    counts: Any,
) -> None:
    """One client process: connect, wait for the others, call until told to stop, report the count."""
    call, rng, done = make_client(url), random.Random(i), 0  # noqa: S311 - load generation, not secrecy
    ready.wait()
    while not stop.is_set():
        call(rng.choice(pairs))
        done += 1
    counts[i] = done


def run(env: BenchEnv) -> list[Figure]:
    groups = _setup({"hot": 3, "spread": SPREAD})
    _throughput(_via_bus, env.database_url, groups["spread"], 2)  # warm-up: imports, plans, caches
    _throughput(_hold_and_capture, env.database_url, groups["spread"], 2)
    figures: list[Figure] = []
    with pgbench_floor(env.database_url) as floor:
        for layout, accounts in groups.items():
            for n in CLIENTS:
                raw = _throughput(_via_raw, env.database_url, accounts, n)
                via_bus = _throughput(_via_bus, env.database_url, accounts, n)
                note = f"{len(accounts)} accounts, {n} concurrent client processes, {SECONDS}s each"
                goal = HOT_GOAL if (layout, n) == ("hot", 8) else None
                name = f"nickel.transfers_per_second_{layout}_{n}_clients"
                figures.append(Figure(name, via_bus, "tx/s", "raw SQL", raw, note, goal))
                figures.append(_against_pgbench(floor, layout, n, via_bus))
        figures += _breakdown(env, floor, groups, figures)
    for layout, accounts in groups.items():
        figures.append(_two_phase(env, layout, accounts))
    return figures


def _value(figures: list[Figure], name: str) -> tuple[float, float | None]:
    figure = next(f for f in figures if f.name == name)
    return figure.value, figure.baseline_value


def _breakdown(env: BenchEnv, floor: Floor, groups: dict[str, list[uuid.UUID]], figures: list[Figure]) -> list[Figure]:
    """Issuance on one asset, round trips, the posting statement under pgbench, lock hold, publish, call."""
    n = 8 if 8 in CLIENTS else CLIENTS[-1]
    spread, _ = _value(figures, f"nickel.transfers_per_second_spread_{n}_clients")
    issued = _throughput(_issue, env.database_url, groups["spread"], n)
    note = f"one asset, {n} client processes, {SECONDS}s; the issuer side is the asset's one issuer account"
    out = [Figure(f"nickel.issues_per_second_one_asset_{n}_clients", issued, "tx/s", "spread transfers", spread, note)]
    out[-1].goal = ISSUE_GOAL if n == 8 else None
    out += _round_trips(env.database_url, groups["spread"])
    out += _posting_under_pgbench(env, floor, groups, figures, n)
    out += _physical(env, floor, groups, n)
    out += _publish_and_call(env, groups["spread"])
    return out


def _round_trips(url: str, accounts: list[uuid.UUID]) -> list[Figure]:
    from bench.nickel_costs import round_trips

    figures = []
    for name, make in (("transfer", _via_bus), ("issue", _issue), ("hold_and_capture", _hold_and_capture)):
        with psycopg.connect(url) as conn:
            call = make(url, conn)
            call((accounts[0], accounts[1]))  # warm: the first call of a kind loads its modules
            counted = round_trips(conn, lambda c=call: c((accounts[0], accounts[1])))  # type: ignore[misc]
        note = (
            "on the wire (libpq trace: Syncs and simple Queries sent), through the bus with a key;"
            " a hold and its capture are two commands. Before issue 14 a transfer made 16, 9 of them holding locks"
        )
        figures.append(Figure(f"nickel.round_trips_{name}", counted, "round trips", note=note))
    return figures


def _posting_under_pgbench(
    env: BenchEnv, floor: Floor, groups: dict[str, list[uuid.UUID]], figures: list[Figure], n: int
) -> list[Figure]:
    """The posting statement alone, driven by pgbench (no Python) on the topic's accounts."""
    from bench.nickel_costs import holders_table, posting_script

    holders_table(env.database_url, groups)
    ours, out = floor.on(env.database_url), []
    seconds = PGBENCH_SECONDS
    for layout, accounts in groups.items():
        script = posting_script(layout, len(accounts), ASSET)
        at_n = ours.run(["-n", "-f", script], n, seconds, transactions=20)
        builtin = PGBENCH[layout]
        _, pgbench_tps = _value(
            figures, f"nickel.transfers_{layout}_vs_pgbench_{builtin.replace('-', '_')}_{n}_clients"
        )
        note = f"pgbench -f (SELECT nickel_post_one(...) with a key, autocommit), {n} clients, {len(accounts)} accounts"
        name = f"nickel.posting_statement_{layout}_{n}_clients_under_pgbench"
        out.append(Figure(name, at_n[0] if at_n else 0.0, "tx/s", f"pgbench {builtin} (tps)", pgbench_tps, note))
        if layout == "hot":
            out += _db_time_and_lock_hold(floor, ours, script, figures, n)
    return out


def _db_time_and_lock_hold(floor: Floor, ours: Floor, script: str, figures: list[Figure], n: int) -> list[Figure]:
    """Database time per transfer (1 client, pgbench -f) beside tpcb-like's; lock hold on hot accounts."""
    ones, tpcbs = [], []
    for _ in range(DB_TIME_ROUNDS):  # alternated, so a busy moment hits both alike; medians
        one = ours.run(["-n", "-f", script], 1, DB_TIME_SECONDS, transactions=20)
        tpcb = floor.run(["-b", "tpcb-like"], 1, DB_TIME_SECONDS, transactions=20)
        ones += [one[1]] if one else []
        tpcbs += [tpcb[1]] if tpcb else []
    note = (
        "average latency at 1 client of one transfer (the posting statement, one round trip) and of one"
        f" tpcb-like transaction (7 round trips), both driven by pgbench on the same server: medians of"
        f" {DB_TIME_ROUNDS} alternated runs of {DB_TIME_SECONDS}s"
    )
    db_time = Figure(
        "nickel.database_ms_per_transfer",
        statistics.median(ones) if ones else 0.0,
        "ms",
        "pgbench tpcb-like per transaction",
        statistics.median(tpcbs) if tpcbs else None,
        note if ones and tpcbs else f"absent: {ours.absent or floor.absent}",
        DB_TIME_GOAL,
    )
    hot, _ = _value(figures, f"nickel.transfers_per_second_hot_{n}_clients")
    _, tpcb_n = _value(figures, f"nickel.transfers_hot_vs_pgbench_tpcb_like_{n}_clients")
    note = (
        f"1000 / throughput at {n} clients on 3 hot accounts (any two transfers among 3 accounts share one, so"
        " they run one at a time); baseline: 1000 / tpcb-like tps (one hot branch row)"
    )
    hold = Figure(
        f"nickel.lock_hold_ms_hot_{n}_clients",
        1000 / hot,
        "ms",
        "pgbench tpcb-like",
        1000 / tpcb_n if tpcb_n else None,
        note,
    )
    return [db_time, hold]


def _physical(env: BenchEnv, floor: Floor, groups: dict[str, list[uuid.UUID]], n: int) -> list[Figure]:
    """What a transfer costs the machine, beside pgbench's transactions: WAL bytes, and CPU at ``n`` clients."""
    from bench.nickel_costs import posting_script

    ours = floor.on(env.database_url)
    script = posting_script("spread", len(groups["spread"]), ASSET)
    return [_wal_per_transfer(env.database_url, floor, ours, script), *_cpu_split(env, floor, ours, groups, script, n)]


def _wal_per_transfer(url: str, floor: Floor, ours: Floor, script: str) -> Figure:
    """WAL bytes per transfer (the posting statement, pgbench -t at 1 client) and per tpcb-like transaction."""
    from bench.nickel_costs import wal_position

    per: dict[str, list[float]] = {"ours": [], "tpcb": []}
    with psycopg.connect(url, autocommit=True) as conn:
        for _ in range(DB_TIME_ROUNDS):  # alternated; full-page images after a checkpoint fall on either side
            for side, driver, args in (("ours", ours, ["-n", "-f", script]), ("tpcb", floor, ["-b", "tpcb-like"])):
                before = wal_position(conn)
                made = driver.count(args, 1, WAL_POSTINGS)
                if made:
                    per[side].append((wal_position(conn) - before) / made)
    note = (
        f"the server's WAL insert position before and after {WAL_POSTINGS} transactions at 1 client driven by"
        f" pgbench (the posting statement with a key, on {SPREAD} accounts; tpcb-like at scale 1), medians of"
        f" {DB_TIME_ROUNDS} alternated runs; server-wide, so anything else writing meanwhile counts too"
    )
    if not per["ours"] or not per["tpcb"]:
        note = f"absent: {ours.absent or floor.absent}"
    return Figure(
        "nickel.wal_bytes_per_transfer",
        statistics.median(per["ours"]) if per["ours"] else 0.0,
        "bytes",
        "pgbench tpcb-like per transaction",
        statistics.median(per["tpcb"]) if per["tpcb"] else None,
        note,
    )


def _cpu_split(
    env: BenchEnv, floor: Floor, ours: Floor, groups: dict[str, list[uuid.UUID]], script: str, n: int
) -> list[Figure]:
    """The machine's CPU per transfer at ``n`` clients on spread accounts: through the bus (and the
    client processes' share of it), the statement alone under pgbench, and pgbench simple-update's."""
    from bench.nickel_costs import busy_cpu_seconds

    if busy_cpu_seconds() is None:
        print("nickel: no /proc/stat on this machine: the CPU split is absent", flush=True)
        return []

    def busy() -> float:
        return busy_cpu_seconds() or 0.0  # present: checked above

    def clients_cpu() -> float:
        times = os.times()
        return times.children_user + times.children_system  # the joined client processes'

    per: dict[str, list[float]] = {"bus": [], "clients": [], "statement": [], "simple-update": []}
    for _ in range(DB_TIME_ROUNDS):  # alternated, so a busy moment hits each alike; medians
        machine, own = busy(), clients_cpu()
        calls, _ = _run_clients(_via_bus, env.database_url, groups["spread"], n)
        if calls:
            per["bus"].append((busy() - machine) / calls * 1000)
            per["clients"].append((clients_cpu() - own) / calls * 1000)
        for side, driver, args, each in (
            ("statement", ours, ["-n", "-f", script], CPU_POSTINGS_EACH),
            ("simple-update", floor, ["-b", "simple-update"], CPU_PGBENCH_EACH),
        ):
            machine = busy()
            made = driver.count(args, n, each)
            if made:
                per[side].append((busy() - machine) / made * 1000)
    median = {side: statistics.median(values) if values else None for side, values in per.items()}
    where = (
        f"{n} clients, {SPREAD} accounts; the machine's busy CPU time (/proc/stat: user, nice, system, irq,"
        f" softirq; {os.cpu_count()} cores) over the run per transaction, medians of {DB_TIME_ROUNDS} alternated runs"
    )
    absent = f"absent: {ours.absent or floor.absent}"
    return [
        Figure(
            f"nickel.cpu_ms_per_transfer_spread_{n}_clients",
            median["bus"] or 0.0,
            "ms",
            "pgbench simple-update per transaction",
            median["simple-update"],
            f"through the bus, client processes included (their start and connection too); {where}",
        ),
        Figure(
            f"nickel.client_cpu_ms_per_transfer_spread_{n}_clients",
            median["clients"] or 0.0,
            "ms",
            "the machine's CPU per transfer (bus)",
            median["bus"],
            f"the client processes' own CPU (os.times of the joined children): Python, the bus, psycopg; {where}",
        ),
        Figure(
            f"nickel.statement_cpu_ms_per_transfer_spread_{n}_clients",
            median["statement"] or 0.0,
            "ms",
            "pgbench simple-update per transaction",
            median["simple-update"],
            f"the posting statement alone, driven by pgbench (-f, no Python); {where}"
            if median["statement"] is not None
            else absent,
        ),
    ]


def _publish_and_call(env: BenchEnv, accounts: list[uuid.UUID]) -> list[Figure]:
    """Publish after commit and the element -> Fluorine call, at 1 client on moto in-process."""
    from bench.nickel_costs import alternated_ms
    from fluorine import bus
    from fluorine.app import handler
    from shared import internal
    from shared.contracts.changes import Idempotency
    from shared.contracts.nickel import PostTransfer, TransferState
    from tests.support.aws import moto_tables
    from tests.support.events import FakeContext

    sender, receiver = accounts[0], accounts[1]
    actor = SESSIONS[sender]

    def command() -> PostTransfer:
        idem = Idempotency(caller_id=str(sender), key=uuid.uuid4().hex, fingerprint="bench")
        return PostTransfer(id=uuid.uuid4(), from_entity=sender, to=receiver, asset=ASSET, amount=1, idempotency=idem)

    context = internal.CallContext(actor=actor)
    with moto_tables():
        ms = alternated_ms(
            {
                "bus": lambda: bus.execute(command().model_dump(mode="json"), actor=actor),
                "handler": lambda: handler(
                    {"command": command().model_dump(mode="json"), "context": context.model_dump(mode="json")},
                    FakeContext(),
                ),
                "call": lambda: internal.call("fluorine", command(), TransferState, context),
            }
        )
    publish = Figure(
        "nickel.publish_ms_per_transfer",
        ms["handler"] - ms["bus"],
        "ms",
        "the transaction (bus) alone",
        ms["bus"],
        "Fluorine's handler minus the bus alone, medians of alternated calls at 1 client: 3 conditional PutItems"
        " on in-process moto and one UPDATE marking them published (deployed: DynamoDB round trips instead)",
    )
    call = Figure(
        "nickel.internal_call_ms_per_transfer",
        ms["call"] - ms["handler"],
        "ms",
        "Fluorine's handler",
        ms["handler"],
        "internal.call minus Fluorine's handler: the command and the answer through pydantic and JSON both ways,"
        " in process; deployed it is a synchronous Lambda Invoke (an HTTPS request to the Lambda service, whose"
        " latency AWS's documentation does not state: measure it deployed)",
    )
    with_round_trips = _publish_with_round_trips(lambda: bus.execute(command().model_dump(mode="json"), actor=actor))
    return [publish, call, *with_round_trips]


def _publish_with_round_trips(post: Callable[[], Any]) -> list[Figure]:
    """A transfer's publish when DynamoDB answers each request after ``ROUND_TRIP``, as over a
    network: its three records for three aggregates at once (``fluorine.publisher``), and one after
    another (as before), beside publishing one record (one PutItem and the UPDATE marking it: the
    floor of a publish); alternated, medians. The client does all its own
    work (boto3 builds, signs and parses each request); only the answer is a stand-in (``{}``,
    what a successful PutItem returns), so no moto work, which deployed runs on DynamoDB's side,
    competes with the puts for the GIL as it does in ``nickel.publish_ms_per_transfer``."""
    from fluorine import publisher
    from fluorine.db import connection
    from shared.aws import dynamodb, reset_clients
    from shared.settings import reset_settings

    samples: dict[str, list[float]] = {"at_once": [], "one_after_another": [], "one_record": []}
    # never contacted: every answer comes from before-send
    with patch.dict(os.environ, {"DYNAMODB_ENDPOINT": "http://127.0.0.1:9"}):
        reset_settings()
        reset_clients()
        dynamodb().meta.events.register("before-send.dynamodb", _answer_after_a_round_trip)
        try:
            for _ in range(PUBLISH_RUNS):
                for way, values in samples.items():
                    records = post().records
                    began = time.perf_counter()
                    if way == "at_once":
                        publisher.publish(connection(), records)
                    elif way == "one_after_another":
                        for record in records:
                            publisher.put_record(record)
                        publisher.mark_published(connection(), [r.seq for r in records])
                    else:
                        publisher.publish(connection(), records[:1])
                    values.append((time.perf_counter() - began) * 1000)
        finally:
            reset_clients()
    reset_settings()
    median = {way: statistics.median(values) for way, values in samples.items()}
    note = (
        f"DynamoDB answers each PutItem after {ROUND_TRIP * 1000:g} ms (a stand-in answer); a transfer's 3 records"
        f" (its own and its two wallets', 3 aggregates) and the UPDATE marking them; medians of {PUBLISH_RUNS}"
        " alternated runs at 1 client"
    )
    return [
        Figure(
            "nickel.publish_ms_per_transfer_with_round_trips",
            median["at_once"],
            "ms",
            "publishing one record",
            median["one_record"],
            f"the records of different aggregates put at once; {note}",
            PUBLISH_GOAL,
        ),
        Figure(
            "nickel.publish_ms_per_transfer_with_round_trips_one_after_another",
            median["one_after_another"],
            "ms",
            "publishing one record",
            median["one_record"],
            f"the records put one after another, as before; {note}",
        ),
    ]


class _Body:
    """The body of a stand-in HTTP answer, as botocore reads one."""

    def __init__(self, content: bytes) -> None:
        self.content = content

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.content


def _answer_after_a_round_trip(request: Any, **_: Any) -> Any:
    """botocore's ``before-send``: DynamoDB's answer to a PutItem (``{}``), after ``ROUND_TRIP``."""
    from botocore.awsrequest import AWSResponse

    time.sleep(ROUND_TRIP)
    return AWSResponse(request.url, 200, {"Content-Type": "application/x-amz-json-1.0"}, _Body(b"{}"))


def _against_pgbench(floor: Floor, layout: str, n: int, via_bus: float) -> Figure:
    """The bus's transfers per second beside pgbench's transactions per second at ``n`` clients."""
    builtin = PGBENCH[layout]
    tps: float | None = None
    why: str | None = "not run at more than 1 client in a smoke run"
    if not SMOKE or n == 1:
        tps, why = floor.tps(builtin, n, PGBENCH_SECONDS, transactions=20), floor.absent
    note = f"pgbench -b {builtin} -s 1 -c {n}, {PGBENCH_SECONDS}s, on the same server right after the transfers"
    if tps is None:
        note = f"pgbench figure absent: {why}"
        print(f"nickel: {note}", flush=True)
    goal = PGBENCH_GOALS[layout] if n == 8 else None
    name = f"nickel.transfers_{layout}_vs_pgbench_{builtin.replace('-', '_')}_{n}_clients"
    return Figure(name, via_bus, "tx/s", f"pgbench {builtin}, scale 1 (tps)", tps, note, goal)


def _two_phase(env: BenchEnv, layout: str, accounts: list[uuid.UUID]) -> Figure:
    """Holds captured per second at HOLD_CLIENTS clients, against plain transfers in alternating windows."""
    n, window = HOLD_CLIENTS, SECONDS / 2
    plain: list[float] = []
    two_phase: list[float] = []
    for _ in range(HOLD_ROUNDS):
        plain.append(_throughput(_via_bus, env.database_url, accounts, n, window))
        two_phase.append(_throughput(_hold_and_capture, env.database_url, accounts, n, window))
    note = (
        f"{len(accounts)} accounts, {n} concurrent clients, {HOLD_ROUNDS} alternating windows of {window}s each;"
        " a hold and its capture are two commands"
    )
    name = f"nickel.holds_captured_per_second_{layout}_{n}_clients"
    goal = HOLD_GOAL if layout == "spread" else None
    return Figure(
        name, statistics.mean(two_phase), "payments/s", "plain transfers (bus)", statistics.mean(plain), note, goal
    )
