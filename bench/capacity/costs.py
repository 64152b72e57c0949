"""What one user action costs, read from bench/capacity_costs.json (``measure`` writes it).

``ActionCost`` adds the request's meter and the change feed's (projector, trigger) into one line
per action, and corrects two things a small measured world understates:

* **Full pages.** A feed partition (``inbox``, ``gbox``, ``pbox`` on gsi1) is queried for
  ``limit + 1`` = 21 items of about 400 B: 8.4 KB, three 4 KB units, halved when eventually
  consistent = 1.5 RRU. The measured world's platform partition holds one broadcast (0.5 RRU);
  at scale every page is full, so a feed query costs at least ``FULL_PAGE_RRU``.
* **Index copies.** A read-cache item with index keys is written again to each index it is
  projected into (``ProjectionType: ALL``, same size), billed as the table's writes are; the meter
  counts the table's write only. ``INDEX_COPIES`` is each item family's number of indexes
  (functions/francium/views: messages gsi1; wallets gsi1; transfers' history gsi1 + gsi2; holds
  gsi1 + gsi2; memberships gsi2; a broadcast's copies gsi1 + gsi2).
* **Audience.** A group broadcast writes a copy and an unread count per fanned member (issue #16):
  the measured group has ``group_size`` members, the modelled groups their own average;
  ``with_audience`` scales those writes and their batch requests to it. Its trigger's queries of
  the readers' connections (``RealtimeTable:entity``, one per reader of the measured group) are
  left out: the model finds each modelled group's audience itself (``model.broadcast_reads``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

COSTS = Path(__file__).parent.parent / "capacity_costs.json"
FULL_PAGE_RRU = 1.5
FEEDS = ("inbox", "gbox", "pbox")
INDEX_COPIES = {"message": 1, "wallet": 1, "transfer": 2, "hold": 2, "member": 1, "asset": 1, "fanout": 2}
CHANGE_FEED = "ChangeFeedTable"
READ_CACHE = "ReadCacheTable"
COPIES = f"{READ_CACHE}:fanout"  # a group broadcast's copies, one per fanned member (and a marker per batch)
READER_CONNECTIONS = "RealtimeTable:entity"  # a reader's connections, one Query per reader
COUNTS = f"{READ_CACHE}:unread"  # unread counts; a fan-out writes one per copy, in the copies' batches

# Which function serves each action (the authorizer runs before the others; see model.authorizer_calls).
FUNCTION = {
    "register": "oxygen",
    "login": "oxygen",
    "refresh": "oxygen",
    "authorize": "authorizer",
    "get_me": "francium",
    "get_wallet": "francium",
    "wallet_history_page": "francium",
    "inbox_page": "francium",
    "unread_count": "francium",
    "graphql_dashboard": "francium",
    "transfer": "nickel",
    "hold_and_capture": "nickel",
    "send_message": "rhenium",
    "mark_read": "rhenium",
    "platform_broadcast": "rhenium",
    "realtime_ticket": "rhenium",
    "group_broadcast": "carbon",
    "create_group": "carbon",
    "join_group": "carbon",
}


@dataclass(frozen=True)
class ActionCost:
    """One action's load on each service: request and change feed together, per action."""

    name: str
    function: str
    fluorine_calls: float = 0.0  # synchronous element -> Fluorine invocations on the request path
    trigger_fluorine_calls: float = 0.0  # Fluorine invocations the Rhenium trigger makes (system messages)
    statements: float = 0.0  # SQL statements, all of them Fluorine's
    request_dynamo: float = 0.0  # the element's own DynamoDB requests (not Fluorine's change-feed puts)
    change_feed_puts: float = 0.0  # Fluorine's change-feed puts on the request path
    feed_records: float = 0.0  # change-feed records the projector receives (request and downstream)
    trigger_records: float = 0.0  # records that pass the trigger's filter
    projector_writes: float = 0.0  # read-cache writes the projector makes
    trigger_dynamo: float = 0.0  # the trigger's DynamoDB requests (connections, memberships)
    live_pushes: float = 0.0  # recipients a direct or system message is pushed to, if connected
    rru: dict[str, float] = field(default_factory=dict)  # per table
    wru: dict[str, float] = field(default_factory=dict)  # per table, index copies included
    partition_rru: dict[str, float] = field(default_factory=dict)  # per "table[/index]:family"
    partition_requests: dict[str, float] = field(default_factory=dict)
    copy_wru: float = 0.0  # of wru[READ_CACHE]: a group broadcast's copies, index copies included
    copy_writes: float = 0.0  # of projector_writes: the copies' BatchWriteItem requests
    reader_rru: float = 0.0  # a group broadcast's measured readers' connection queries, not in rru

    def with_audience(self, members: float, measured: float) -> ActionCost:
        """The same action for a group of ``members`` fanned members (its copies scale with them)."""
        if not self.copy_wru or measured <= 0:
            return self
        scale = members / measured
        wru = {**self.wru, READ_CACHE: self.wru[READ_CACHE] + self.copy_wru * (scale - 1)}
        writes = self.projector_writes + self.copy_writes * (scale - 1)
        return replace(
            self, wru=wru, copy_wru=self.copy_wru * scale, copy_writes=self.copy_writes * scale, projector_writes=writes
        )

    def with_groups(self, groups: float, measured: float) -> ActionCost:
        """The same action for a caller in ``groups`` groups (a page reads one gbox per group)."""
        key = f"{READ_CACHE}/gsi1:gbox"
        if key not in self.partition_rru or measured <= 0:
            return self
        scale = groups / measured
        extra = self.partition_rru[key] * (scale - 1)
        rru = {**self.rru, READ_CACHE: self.rru.get(READ_CACHE, 0.0) + extra}
        parts = {**self.partition_rru, key: self.partition_rru[key] * scale}
        requests = {**self.partition_requests, key: self.partition_requests[key] * scale}
        return replace(self, rru=rru, partition_rru=parts, partition_requests=requests)


def _add(into: dict[str, float], key: str, value: float) -> None:
    into[key] = into.get(key, 0.0) + value


def action_cost(name: str, measured: dict[str, Any]) -> ActionCost:
    request, downstream = measured["request"], measured["downstream"]
    rru: dict[str, float] = {}
    wru: dict[str, float] = {}
    parts: dict[str, float] = {}
    requests: dict[str, float] = {}
    for side in (request, downstream):
        for table, used in side["dynamodb"].items():
            _add(rru, table, used["read_units"])
            _add(wru, table, used["write_units"])
        for where, used in side["dynamodb_partitions"].items():
            table, _, family = where.partition(":")
            read = used["read_units"]
            if table == f"{READ_CACHE}/gsi1" and family in FEEDS:
                read = max(read, used["requests"] * FULL_PAGE_RRU)
                _add(rru, READ_CACHE, read - used["read_units"])
            _add(parts, where, read)
            _add(requests, where, used["requests"])
            if table == READ_CACHE and family in INDEX_COPIES:
                _add(wru, READ_CACHE, used["write_units"] * INDEX_COPIES[family])
    copies = downstream["dynamodb_partitions"].get(COPIES, {})
    if copies:  # a group broadcast: its readers' connection queries are the model's (see above)
        lookups = downstream["dynamodb_partitions"].get(READER_CONNECTIONS, {})
        _add(rru, "RealtimeTable", -lookups.get("read_units", 0.0))
        _add(parts, READER_CONNECTIONS, -lookups.get("read_units", 0.0))
        _add(requests, READER_CONNECTIONS, -lookups.get("requests", 0.0))
    else:
        lookups = {}
    # A fan-out's unread counts are per member, like its copies: scaled with them to the audience
    counts = downstream["dynamodb_partitions"].get(COUNTS, {}) if copies else {}
    down_tables = downstream["dynamodb"]
    return ActionCost(
        name=name,
        function=FUNCTION[name],
        fluorine_calls=request["lambda_invocations"].get("fluorine", 0),
        trigger_fluorine_calls=downstream["lambda_invocations"].get("fluorine", 0),
        statements=request["sql_statements"] + downstream["sql_statements"],
        request_dynamo=sum(t["requests"] for n, t in request["dynamodb"].items() if n != CHANGE_FEED),
        change_feed_puts=request["dynamodb"].get(CHANGE_FEED, {}).get("requests", 0),
        feed_records=measured["change_feed_records"] + down_tables.get(CHANGE_FEED, {}).get("requests", 0),
        trigger_records=measured["trigger_records"],
        projector_writes=down_tables.get(READ_CACHE, {}).get("requests", 0),
        trigger_dynamo=down_tables.get("RealtimeTable", {}).get("requests", 0) - lookups.get("requests", 0.0),
        live_pushes=1.0 if READER_CONNECTIONS in downstream["dynamodb_partitions"] else 0.0,
        rru=rru,
        wru=wru,
        partition_rru=parts,
        partition_requests=requests,
        copy_wru=copies.get("write_units", 0.0) * (1 + INDEX_COPIES["fanout"]) + counts.get("write_units", 0.0),
        copy_writes=copies.get("requests", 0.0),
        reader_rru=lookups.get("read_units", 0.0),
    )


@dataclass(frozen=True)
class Costs:
    actions: dict[str, ActionCost]
    measured_groups: float  # groups the measured inbox reader belongs to
    measured_at: str
    commit: str
    measured_group_size: float = 1.0  # members of the measured group (its broadcast's copies)


def load_costs(path: Path = COSTS) -> Costs:
    raw = json.loads(path.read_text())
    actions = {name: action_cost(name, measured) for name, measured in raw["actions"].items()}
    return Costs(
        actions,
        raw.get("reader_groups", 1),
        raw.get("measured_at", "?"),
        raw.get("commit", "?"),
        raw.get("group_size", 1),
    )
