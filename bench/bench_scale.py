"""Scale curves of the read side: a members page and a wallet history page at 10, 1,000 and
100,000 items (the inbox's curve is in bench_rhenium).

Each page goes through Francium's real handler (REST, limit 20) against a read cache seeded
through the real projections into the ``SortedTable`` stand-in (moto scans the whole table for
every index query; DynamoDB reads a sort-key range). A page's cost should be flat in the
collection's size: its figures are its latency, its DynamoDB requests and the items it reads.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bench.harness import SCALE_SIZES, BenchEnv, Figure, flat_goal, scale_baseline, sized, summary, timed
from bench.social_seed import read_cache
from bench.sorted_table import SortedTable
from shared.context import Caller
from tests.support.events import FakeContext, api_event

SIZES = SCALE_SIZES
REPEAT = sized(50, 3)
EPOCH = datetime(2030, 1, 1, tzinfo=UTC)


def _apply(aggregate: str, event: str, payload: dict[str, object]) -> None:
    from francium import projector
    from shared.contracts.changes import ChangeRecord

    projector.apply(
        ChangeRecord(aggregate=aggregate, version=1, event_type=event, payload=payload, seq=1, occurred_at=EPOCH)
    )


def _seed_group(size: int) -> tuple[str, Caller]:
    """A public group of ``size`` members; (its members path, a member reading it)."""
    group, people = uuid.uuid4(), [uuid.uuid4() for _ in range(size)]
    state = {"id": str(group), "name": "g", "visibility": "public", "owner_id": str(people[0])}
    _apply(f"group#{group}", "GroupCreated", {**state, "member_count": size, "created_at": EPOCH, "version": 1})
    for n, person in enumerate(people):
        joined = (EPOCH + timedelta(milliseconds=n)).isoformat()
        member = {"group_id": str(group), "entity_id": str(person), "joined_at": joined, "version": 1}
        _apply(f"member#{group}:{person}", "MemberJoined", {**member, "role": "owner" if n == 0 else "member"})
    return f"/v1/groups/{group}/members", Caller(entity_id=people[-1], kind="real")


def _seed_history(size: int) -> tuple[str, Caller]:
    """An entity with ``size`` transfers (received and sent, two assets); (its history path, it)."""
    owner, other = uuid.uuid4(), uuid.uuid4()
    for n in range(size):
        sent = n % 2 == 0
        transfer = {"id": str(uuid.uuid4()), "from": str(owner if sent else other), "to": str(other if sent else owner)}
        created = (EPOCH + timedelta(milliseconds=n)).isoformat()
        payload = {**transfer, "asset": "USD" if n % 3 else "EUR", "amount": n + 1, "kind": "transfer"}
        _apply(f"transfer#{transfer['id']}", "TransferPosted", {**payload, "created_at": created, "version": 1})
    return "/v1/wallets/me/transfers", Caller(entity_id=owner, kind="real")


def _curve(table: SortedTable, name: str, seed: Callable[[int], tuple[str, Caller]], figures: list[Figure]) -> None:
    from francium.app import handler

    first: dict[int, float] = {}
    read_at: dict[int, int] = {}
    for size in SIZES:
        path, reader = seed(size)

        def page(path: str = path, reader: Caller = reader) -> None:
            answer = handler(api_event("GET", path, query={"limit": "20"}, caller=reader), FakeContext())
            assert answer["statusCode"] == 200, answer["body"]

        measured = summary(timed(page, repeat=REPEAT))
        table.reset_counters()
        page()
        first[size] = measured["p50"]
        base = scale_baseline(size, first, "items")
        note = f"limit 20, {size:,} items, real handler, {REPEAT} runs"
        figures.append(Figure(f"scale.{name}_page_{size}_items_p50", measured["p50"], "ms", *base, note))
        figures.append(Figure(f"scale.{name}_page_{size}_items_p99", measured["p99"], "ms"))
        figures.append(Figure(f"scale.{name}_page_{size}_items_requests", table.requests, "requests"))
        read_at[size] = table.items_read
        flat = flat_goal(size, read_at)
        figures.append(Figure(f"scale.{name}_page_{size}_items_read", table.items_read, "items", goal=flat))


def run(env: BenchEnv) -> list[Figure]:
    figures: list[Figure] = []
    with read_cache() as table:
        _curve(table, "members", _seed_group, figures)
        _curve(table, "wallet_history", _seed_history, figures)
    return figures
