"""The deployed system under a workload mix: load per component and per hot key, the first limit
hit and where, and the monthly bill (docs/capacity.md explains each assumption).

``evaluate(workload, costs)`` multiplies the measured per-action costs (``costs.py``) by the mix's
rates: averages for the bill, averages x ``peak_to_average`` for the limits. Time on the wire is
not measured locally, so durations come from ``Latencies`` (a few documented round-trip figures)
applied to the measured counts of statements, DynamoDB requests and invocations.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from bench.capacity.costs import CHANGE_FEED, FULL_PAGE_RRU, READ_CACHE, ActionCost, Costs
from bench.capacity.limits import (
    HOURS_PER_MONTH,
    LIMITS,
    PROXY_MAX_CONNECTIONS_PERCENT,
    SECONDS_PER_MONTH,
    Prices,
    max_connections,
    tiered,
)

DAY = 86_400
FANOUT_LIMIT = 10_000  # a group's first members get copies of its broadcasts (Settings.fanout_limit)
# A group broadcast to at most this many readers queries each reader's connections; a larger one
# scans every open connection. Mirrors SMALL_GROUP in functions/rhenium/live.py (a unit test ties them).
SMALL_GROUP = 500

# What one daily active entity does in a day (the documented mix; docs/capacity.md, Workload).
DEFAULT_MIX: dict[str, float] = {
    "login": 1.0,
    "refresh": 4.0,
    "get_me": 2.0,
    "get_wallet": 3.0,
    "wallet_history_page": 1.0,
    "inbox_page": 6.0,
    "unread_count": 6.0,
    "graphql_dashboard": 2.0,
    "transfer": 0.5,
    "hold_and_capture": 0.05,
    "send_message": 3.0,
    "mark_read": 3.0,
    "realtime_ticket": 1.0,
    "create_group": 0.01,
    "join_group": 0.05,
    "register": 0.005,
}
UNAUTHORIZED = {"register", "login", "refresh"}  # routes without the TOKEN authorizer
FIXED_LOADS = {"stream_readers"}  # set by the design, not by the load: two of two at any size
FAILED_RECORD_SHARE = 1e-4  # records that exhaust their retries and go to a failure queue (assumed)


@dataclass(frozen=True)
class Workload:
    entities: int
    daily_active_share: float = 0.2
    per_active_per_day: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_MIX))
    peak_to_average: float = 3.0
    memberships_per_entity: float = 3.0
    # (members, share of all memberships): most memberships are in small groups.
    group_sizes: tuple[tuple[int, float], ...] = ((8, 0.5), (100, 0.3), (2_000, 0.2))
    largest_group_share: float = 0.05  # one very large group holds this share of all entities
    group_broadcasts_per_group_per_day: float = 0.5
    platform_broadcasts_per_day: float = 2.0
    connected_share_at_peak: float = 0.1  # of daily actives, a WebSocket open at the peak
    requests_per_authorizer_call: float = 2.0  # API Gateway caches an Allow for 60 s per token

    @property
    def actives(self) -> float:
        return self.entities * self.daily_active_share

    @property
    def groups(self) -> float:
        return self.entities * self.memberships_per_entity * sum(share / size for size, share in self.group_sizes)

    @property
    def small_groups(self) -> tuple[float, float]:
        """Of all groups (hence of group broadcasts: the same rate per group), the share with at most
        ``SMALL_GROUP`` members, and their average size. The largest group is not in ``groups``."""
        counts = [(size, share / size) for size, share in self.group_sizes]
        total = sum(n for _, n in counts)
        small = [(size, n) for size, n in counts if size <= SMALL_GROUP]
        count = sum(n for _, n in small)
        if not count:
            return 0.0, 0.0
        return count / total, sum(size * n for size, n in small) / count

    @property
    def largest_group(self) -> float:
        return self.entities * self.largest_group_share

    @property
    def connected_peak(self) -> float:
        return self.actives * self.connected_share_at_peak


@dataclass(frozen=True)
class Latencies:
    """Deployed round trips and work per step (ms): assumptions, see docs/capacity.md."""

    handler_ms: float = 5.0
    dynamodb_ms: float = 6.0
    sql_ms: float = 1.5  # one statement through RDS Proxy, in the VPC
    invoke_ms: float = 20.0  # a synchronous Lambda Invoke's own overhead (warm)
    password_hash_ms: float = 250.0  # Argon2id on register and login
    read_side_wait_ms: float = 300.0  # a login waits for its session's projection
    push_ms: float = 20.0  # one PostToConnection
    push_threads: int = 16  # rhenium/live.py's pool
    statements_per_acu_second: float = 800.0
    io_per_statement: float = 1.0
    connection_item_bytes: int = 150  # a RealtimeTable item; two per connection
    initial_shards: int = 4  # a new on-demand table's partitions, hence its stream's shards


@dataclass(frozen=True)
class Deployment:
    """What template.yaml and database.yaml configure, and the limits (overridable, for what-ifs)."""

    memory_mb: Mapping[str, int] = field(default_factory=lambda: {"authorizer": 512})
    default_memory_mb: int = 1024
    min_acu: float = 0.5
    stream_consumers: int = 2  # the projector and the Rhenium trigger (tests/unit/test_deploy_streams.py)
    trigger_parallelization: int = 4
    projector_parallelization: int = 4
    limits: Mapping[str, float] = field(default_factory=dict)
    # What-ifs for the fixes docs/capacity.md recommends (both off: the design as deployed).
    group_audience_by_members: bool = False  # every group's readers queried, also over SMALL_GROUP
    pbox_cache_seconds: float = 0.0  # each Francium container keeps the platform page head this long

    def limit(self, key: str) -> float:
        return self.limits.get(key, LIMITS[key].value)

    def memory_gb(self, function: str) -> float:
        return self.memory_mb.get(function, self.default_memory_mb) / 1024


@dataclass(frozen=True)
class Check:
    name: str  # "<limit key>" or "<limit key>:<which>" (a partition key, say)
    where: str
    load: float
    limit: float

    @property
    def key(self) -> str:
        return self.name.split(":")[0]

    @property
    def utilisation(self) -> float:
        return self.load / self.limit if self.limit else math.inf

    @property
    def exceeded(self) -> bool:
        return self.load > self.limit


@dataclass
class Result:
    workload: Workload
    rates: dict[str, float]  # average actions per second
    invocations: dict[str, float]  # average per second, per function
    concurrency: dict[str, float]  # at the peak, per function
    rru: dict[str, float]  # average per second, per table
    wru: dict[str, float]
    statements: float  # average per second
    transactions: float
    records: float  # change-feed records delivered per second (projector and trigger), average
    checks: list[Check]
    cost: dict[str, float]  # monthly USD per line

    @property
    def first(self) -> Check | None:
        """The limit exceeded by the most (hit first as load grows), or None."""
        hit = [c for c in self.checks if c.exceeded]
        return max(hit, key=lambda c: c.utilisation) if hit else None

    @property
    def closest(self) -> Check:
        """The limit nearest to being exceeded among those that grow with load."""
        return max((c for c in self.checks if c.name not in FIXED_LOADS), key=lambda c: c.utilisation)

    def check(self, name: str) -> Check:
        return next(c for c in self.checks if c.name == name)

    @property
    def monthly(self) -> float:
        return sum(self.cost.values())


def action_rates(w: Workload) -> dict[str, float]:
    """Average actions per second: the per-active mix, plus broadcasts (per group, per platform)."""
    rates = {name: w.actives * per_day / DAY for name, per_day in w.per_active_per_day.items()}
    rates["group_broadcast"] = w.groups * w.group_broadcasts_per_group_per_day / DAY
    rates["platform_broadcast"] = w.platform_broadcasts_per_day / DAY
    authorized = sum(r for name, r in rates.items() if name not in UNAUTHORIZED)
    rates["authorize"] = authorized / w.requests_per_authorizer_call
    return rates


def fluorine_call_ms(c: ActionCost, lat: Latencies) -> float:
    """One Fluorine invocation of this action: its statements and its change-feed puts."""
    calls = c.fluorine_calls + c.trigger_fluorine_calls
    if not calls:
        return 0.0
    return lat.handler_ms + (c.statements / calls) * lat.sql_ms + (c.change_feed_puts / calls) * lat.dynamodb_ms


def element_ms(c: ActionCost, lat: Latencies) -> float:
    """The element's billed time: its own reads, and the wait for each synchronous Fluorine call."""
    own = lat.handler_ms + c.request_dynamo * lat.dynamodb_ms
    waiting = c.fluorine_calls * (lat.invoke_ms + fluorine_call_ms(c, lat))
    extra = {"login": lat.password_hash_ms + lat.read_side_wait_ms, "register": lat.password_hash_ms}
    return own + waiting + extra.get(c.name, 0.0)


@dataclass(frozen=True)
class Audience:
    """Who is connected (for live delivery), at the peak or on average."""

    connected: float
    entities: float
    average_group: float
    largest_group: float
    # Group broadcasts whose readers' connections are queried one by one (groups of at most
    # SMALL_GROUP), and those groups' average size; the other broadcasts scan every connection.
    queried_share: float = 0.0
    queried_group: float = 0.0

    @property
    def share(self) -> float:
        return self.connected / self.entities if self.entities else 0.0

    def scan_rru(self, lat: Latencies) -> float:
        """One Scan of RealtimeTable (two items per connection), eventually consistent."""
        return max(1, math.ceil(self.connected * 2 * lat.connection_item_bytes / 4096)) * 0.5

    def scan_ms(self, lat: Latencies) -> float:
        pages = max(1, math.ceil(self.connected * 2 * lat.connection_item_bytes / 2**20))
        return pages * lat.dynamodb_ms


READER_QUERY_RRU = 1.0  # a reader's connections: one consistent Query (measured: RealtimeTable:entity)


def trigger_ms(c: ActionCost, lat: Latencies, who: Audience) -> float:
    """The Rhenium trigger's time for this action's records: system messages and live pushes."""
    base = c.trigger_records * lat.handler_ms + c.trigger_dynamo * lat.dynamodb_ms
    base += c.trigger_fluorine_calls * (lat.invoke_ms + fluorine_call_ms(c, lat))
    per_push = lat.push_ms / lat.push_threads
    if c.name == "platform_broadcast":
        return base + who.scan_ms(lat) + who.connected * per_push
    # A group broadcast's readers come from Fluorine (``LiveAudience``, a measured trigger call).
    # A small group's: a Query each for their connections, in the pool; a large group's: one Scan.
    if c.name == "group_broadcast":
        queries = who.queried_share * who.queried_group * lat.dynamodb_ms / lat.push_threads
        scans = (1 - who.queried_share) * who.scan_ms(lat)
        return base + queries + scans + who.average_group * who.share * per_push
    return base + c.live_pushes * who.share * lat.push_ms


def broadcast_reads(rates: Mapping[str, float], who: Audience, lat: Latencies) -> dict[str, float]:
    """Read units per second the trigger spends finding a broadcast's audience's connections: a
    Scan per platform broadcast and per broadcast to a group over SMALL_GROUP (not measured: the
    measured world has one connection), a Query per reader of a smaller group (measured per reader,
    left out of the measured broadcast's cost: costs.py). A group's readers are Fluorine's answer
    (measured), not read-cache reads."""
    groups = rates.get("group_broadcast", 0)
    scans = rates.get("platform_broadcast", 0) * who.scan_rru(lat)
    # A small group: one Query of RealtimeTable per reader; a large one: a Scan of every connection.
    queried = who.queried_share * who.queried_group * READER_QUERY_RRU
    realtime = scans + groups * (queried + (1 - who.queried_share) * who.scan_rru(lat))
    return {"RealtimeTable": realtime}


# A WebSocket's $connect (ticket redeemed by a conditional delete, entity and session read
# consistently, two connection items put) and $disconnect (two deletes): assumed, not measured.
CONNECT_WRU = {"RealtimeTable": 5.0}
CONNECT_RRU = {READ_CACHE: 2.0}
CONNECT_REQUESTS = 4  # DynamoDB requests of $connect and $disconnect together, besides their handlers


def busy(actions: Mapping[str, ActionCost], rates: Mapping[str, float], lat: Latencies, who: Audience) -> Busy:
    """Invocations per second and busy seconds per second (= concurrency) of each function."""
    out = Busy()
    for name, rate in rates.items():
        c = actions[name]
        calls = c.fluorine_calls + c.trigger_fluorine_calls
        out.add(c.function, rate, rate * element_ms(c, lat))
        out.add("fluorine", rate * calls, rate * calls * fluorine_call_ms(c, lat))
        projecting = c.feed_records * lat.handler_ms + c.projector_writes * lat.dynamodb_ms
        out.add("projector", rate * c.feed_records, rate * projecting)
        out.add("rhenium_trigger", rate * c.trigger_records, rate * trigger_ms(c, lat, who))
        if name == "realtime_ticket":  # the WebSocket it opens: $connect and $disconnect
            out.add("realtime", 2 * rate, rate * (CONNECT_REQUESTS * lat.dynamodb_ms + lat.handler_ms))
    return out


@dataclass
class Busy:
    invocations: dict[str, float] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def add(self, function: str, invocations: float, milliseconds: float) -> None:
        self.invocations[function] = self.invocations.get(function, 0.0) + invocations
        self.seconds[function] = self.seconds.get(function, 0.0) + milliseconds / 1000

    def batched(self, shards: int, dep: Deployment) -> Busy:
        """Stream consumers are invoked per batch: Lambda polls each shard about four times a
        second, and runs at most ParallelizationFactor batches of a shard at once."""
        inv, sec = dict(self.invocations), dict(self.seconds)
        for function, parallel in (
            ("projector", dep.projector_parallelization),
            ("rhenium_trigger", dep.trigger_parallelization),
        ):
            if function in inv:
                inv[function] = min(inv[function], shards * 4 * parallel)
                sec[function] = min(sec[function], shards * parallel)
        return Busy(inv, sec)


def table_units(
    actions: Mapping[str, ActionCost], rates: Mapping[str, float], who: Audience, lat: Latencies
) -> tuple[dict[str, float], dict[str, float]]:
    """Read and write units per second per table."""
    rru: dict[str, float] = {}
    wru: dict[str, float] = {}
    extra_reads = broadcast_reads(rates, who, lat)
    connects = rates.get("realtime_ticket", 0)
    for name, rate in rates.items():
        for table, units in actions[name].rru.items():
            rru[table] = rru.get(table, 0.0) + rate * units
        for table, units in actions[name].wru.items():
            wru[table] = wru.get(table, 0.0) + rate * units
    for table, units in extra_reads.items():
        rru[table] = rru.get(table, 0.0) + units
    for table, units in CONNECT_RRU.items():
        rru[table] = rru.get(table, 0.0) + connects * units
    for table, units in CONNECT_WRU.items():
        wru[table] = wru.get(table, 0.0) + connects * units
    return rru, wru


def shards_for(change_feed_wru: float, lat: Latencies) -> int:
    """A stream has about one shard per table partition, and a partition takes 1,000 WRU/s."""
    return max(lat.initial_shards, math.ceil(change_feed_wru / LIMITS["partition_write"].value))


PBOX = f"{READ_CACHE}/gsi1:pbox"


def pbox_reads(
    actions: Mapping[str, ActionCost], rates: Mapping[str, float], containers: float, cache_s: float
) -> float:
    """Read units per second on the platform partition: every inbox page queries it, unless each
    Francium container keeps the newest page for ``cache_s`` seconds (one query per container then)."""
    reads = sum(rate * actions[name].partition_rru.get(PBOX, 0.0) for name, rate in rates.items())
    if cache_s <= 0:
        return reads
    query = actions["inbox_page"]
    per_query = query.partition_rru[PBOX] / query.partition_requests[PBOX]
    return min(reads, max(1.0, containers) / cache_s * per_query)


INBOX = f"{READ_CACHE}/gsi1:inbox"


def read_time_pages(actions: Mapping[str, ActionCost], rates: Mapping[str, float], w: Workload) -> float:
    """Inbox pages per second that also query the largest group's partition: those of its members
    who joined it past ``FANOUT_LIMIT`` (they get no copies of its broadcasts and read it at read
    time; the measured reader's groups are all fanned, so its pages query no group partition)."""
    share = max(0.0, w.largest_group - FANOUT_LIMIT) / w.entities if w.entities else 0.0
    return sum(rate * actions[name].partition_requests.get(INBOX, 0.0) for name, rate in rates.items()) * share


def hot_keys(
    actions: Mapping[str, ActionCost], w: Workload, peak: Mapping[str, float], containers: float, cache_s: float
) -> list[tuple[str, str, float]]:
    """Read units per second on the platform partition (every page reads it) and on the largest
    group's partition (each of its members' pages reads it), and writes on the latter, at the peak."""
    on_gbox = read_time_pages(actions, peak, w) * FULL_PAGE_RRU
    writes = w.group_broadcasts_per_group_per_day / DAY * w.peak_to_average * 2  # item and its gsi1 copy
    largest = f"gbox#<largest group, {w.largest_group:,.0f} members>"
    return [
        (
            "partition_read:pbox",
            "ReadCacheTable gsi1 pbox (every inbox page)",
            pbox_reads(actions, peak, containers, cache_s),
        ),
        ("partition_read:gbox", f"ReadCacheTable gsi1 {largest}", on_gbox),
        ("partition_write:gbox", f"ReadCacheTable gsi1 {largest}", writes),
    ]


def audiences(w: Workload, by_members: bool = False) -> tuple[Audience, Audience]:
    """Who is connected on average (for the bill) and at the peak (for the limits). As the code
    does, broadcasts to groups of at most SMALL_GROUP query their readers' connections and the
    others scan; ``by_members`` (a what-if) has every group query."""
    average_group = w.entities * w.memberships_per_entity / w.groups if w.groups else 0.0
    queried = (1.0, average_group) if by_members else w.small_groups
    peak = Audience(w.connected_peak, w.entities, average_group, w.largest_group, *queried)
    return replace(peak, connected=peak.connected / w.peak_to_average), peak


def evaluate(w: Workload, costs: Costs, lat: Latencies | None = None, dep: Deployment | None = None) -> Result:
    lat, dep = lat or Latencies(), dep or Deployment()
    average_who, peak_who = audiences(w, dep.group_audience_by_members)
    actions = {
        n: c.with_groups(w.memberships_per_entity, costs.measured_groups).with_audience(
            min(average_who.average_group, FANOUT_LIMIT), costs.measured_group_size
        )
        for n, c in costs.actions.items()
    }
    rates = action_rates(w)
    if missing := set(rates) - set(actions):
        raise ValueError(f"no measured cost for {sorted(missing)}: run python -m bench capacity --measure")
    peak_rates = {name: rate * w.peak_to_average for name, rate in rates.items()}
    rru, wru = table_units(actions, rates, average_who, lat)
    shards = shards_for(wru.get(CHANGE_FEED, 0.0) * w.peak_to_average, lat)
    average = busy(actions, rates, lat, average_who).batched(shards, dep)
    containers = average.seconds.get("francium", 0.0)
    saved = pbox_reads(actions, rates, containers, 0) - pbox_reads(actions, rates, containers, dep.pbox_cache_seconds)
    rru[READ_CACHE] = rru.get(READ_CACHE, 0.0) - saved + read_time_pages(actions, rates, w) * FULL_PAGE_RRU
    unbounded = busy(actions, peak_rates, lat, peak_who)  # what the peak asks of each function
    at_peak = unbounded.batched(shards, dep)
    statements = sum(rate * actions[n].statements for n, rate in rates.items())
    transactions = average.invocations.get("fluorine", 0.0)
    loads = limit_loads(w, actions, peak_rates, unbounded, statements, shards, lat, peak_who, dep)
    checks = [
        Check(name, where, load, limit(dep, name) if fixed is None else fixed) for name, where, load, fixed in loads
    ]
    records = sum(rate * (actions[n].feed_records + actions[n].trigger_records) for n, rate in rates.items())
    cost = monthly_cost(w, rates, average, rru, wru, statements, records, average_who, lat, dep)
    return Result(
        w, rates, average.invocations, at_peak.seconds, rru, wru, statements, transactions, records, checks, cost
    )


def limit(dep: Deployment, name: str) -> float:
    key = name.split(":")[0]
    if key == "aurora_connections" and key not in dep.limits:
        return PROXY_MAX_CONNECTIONS_PERCENT * max_connections(dep.limit("aurora_acu"))
    return dep.limit(key)


Load = tuple[str, str, float, "float | None"]  # check name, where, load, limit (None: the Deployment's)


def limit_loads(
    w: Workload,
    actions: Mapping[str, ActionCost],
    peak: Mapping[str, float],
    asked: Busy,
    statements: float,
    shards: int,
    lat: Latencies,
    who: Audience,
    dep: Deployment,
) -> list[Load]:
    """Each limit's load at the peak."""
    containers = asked.batched(shards, dep).seconds.get("francium", 0.0)
    rest = sum(rate for name, rate in peak.items() if name != "authorize")
    direct = sum(peak.get(n, 0) * actions[n].live_pushes for n in actions)
    push_burst = lat.push_threads / lat.push_ms * 1000 if w.platform_broadcasts_per_day else 0.0
    records = sum(rate * actions[n].trigger_records for n, rate in peak.items())
    trigger_busy = asked.seconds.get("rhenium_trigger", 0.0)
    # A shard's records go through at most ParallelizationFactor batches at a time.
    per_shard = dep.trigger_parallelization * records / trigger_busy if trigger_busy else math.inf
    broadcast_s = trigger_ms(actions["platform_broadcast"], lat, who) / 1000
    acu = max(dep.min_acu, statements * w.peak_to_average / lat.statements_per_acu_second)
    return [
        ("api_stage_rps", "REST API stage (all routes)", rest, None),
        ("api_login_rps", "POST /v1/auth/token", peak.get("login", 0.0), None),
        (
            "api_account_rps",
            "REST + @connections pushes, a broadcast under way",
            rest + direct * who.share + push_burst,
            None,
        ),
        ("lambda_concurrency", "all functions, region", sum(asked.batched(shards, dep).seconds.values()), None),
        *[(n, where, load, None) for n, where, load in hot_keys(actions, w, peak, containers, dep.pbox_cache_seconds)],
        ("stream_readers", "ChangeFeedTable stream, each shard", float(dep.stream_consumers), None),
        ("trigger_shard_rate", f"Rhenium trigger, per shard ({shards} shards)", records / shards, per_shard),
        ("trigger_timeout", f"one platform broadcast to {who.connected:,.0f} connections", broadcast_s, None),
        ("aurora_acu", "Aurora writer", acu, None),
        ("aurora_connections", "Fluorine executions holding a connection", asked.seconds.get("fluorine", 0.0), None),
    ]


def monthly_cost(
    w: Workload,
    rates: Mapping[str, float],
    average: Busy,
    rru: Mapping[str, float],
    wru: Mapping[str, float],
    statements: float,
    records: float,
    who: Audience,
    lat: Latencies,
    dep: Deployment,
    prices: Prices | None = None,
) -> dict[str, float]:
    """USD per month at the average rates (730 hours), one line per service."""
    p, month = prices or Prices(), SECONDS_PER_MONTH
    rest = sum(rate for name, rate in rates.items() if name != "authorize") * month
    # Live pushes: every connection for a platform broadcast, the connected part of a group or of
    # a direct or system message's recipient otherwise.
    pushes = rates.get("platform_broadcast", 0) * who.connected
    pushes += rates.get("group_broadcast", 0) * who.average_group * who.share
    pushes += sum(rates[n] for n in ("send_message", "transfer", "hold_and_capture") if n in rates) * who.share
    gb_seconds = sum(seconds * dep.memory_gb(f) for f, seconds in average.seconds.items()) * month
    acu = max(dep.min_acu, statements / lat.statements_per_acu_second)
    failures = records * FAILED_RECORD_SHARE * 3  # send, receive and delete of each failed record
    return {
        "API Gateway REST requests": tiered(rest, p.api_rest_per_million),
        "API Gateway WebSocket (messages, connection minutes)": pushes * month / 1e6 * p.websocket_message_per_million
        + who.connected * 60 * HOURS_PER_MONTH / 1e6 * p.websocket_connection_minute_per_million,
        "Lambda requests": sum(average.invocations.values()) * month / 1e6 * p.lambda_request_per_million,
        "Lambda duration (Arm)": gb_seconds * p.lambda_arm_gb_second,
        "DynamoDB reads": sum(rru.values()) * month / 1e6 * p.dynamodb_rru_per_million,
        "DynamoDB writes": sum(wru.values()) * month / 1e6 * p.dynamodb_wru_per_million,
        "Aurora Serverless v2 ACUs": acu * HOURS_PER_MONTH * p.aurora_acu_hour,
        "Aurora I/O": statements * lat.io_per_statement * month / 1e6 * p.aurora_io_per_million,
        "RDS Proxy": max(p.proxy_min_acu, acu) * HOURS_PER_MONTH * p.proxy_acu_hour,
        "VPC endpoint (Secrets Manager, 2 AZ)": 2 * HOURS_PER_MONTH * p.interface_endpoint_hour,
        "SQS failure queues": failures * month / 1e6 * p.sqs_per_million,
    }


def entities_at_limit(
    name: str, costs: Costs, template: Workload, lat: Latencies | None = None, dep: Deployment | None = None
) -> float | None:
    """The fewest entities (to 1%) at which check ``name`` is exceeded, with every other figure of
    ``template`` kept; None if not below 10 billion. Every load grows with the entities."""

    def exceeded(n: float) -> bool:
        return evaluate(replace(template, entities=int(n)), costs, lat, dep).check(name).exceeded

    low, high = 100.0, 1e10
    if exceeded(low):
        return low
    if not exceeded(high):
        return None
    while high / low > 1.01:
        middle = math.sqrt(low * high)
        low, high = (low, middle) if exceeded(middle) else (middle, high)
    return high
