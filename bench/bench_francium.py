"""Francium's GraphQL read path against the DynamoDB floor, in-process on moto.

Each GraphQL figure is the full request through FranciumFunction's real handler (API Gateway
event → Powertools → strawberry ``execute_sync`` → read views → JSON), and each has beside it the
floor measured in the same run on the same client: the bare DynamoDB calls the answer needs
(``me``: one GetItem; ``wallet``: two Queries; a 50-member ``group``: two GetItems, one Query and
one BatchGetItem for the profiles). The difference is what GraphQL and the views add. The
``*_requests`` figures count DynamoDB calls per query (no N+1: a page of 50 members with their
profiles stays at 4). The cache is seeded through the real projections (no PostgreSQL needed).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.harness import WARMUP, BenchEnv, Figure, alternating, sized, summary
from shared.context import Caller
from tests.support.aws import moto_tables
from tests.support.events import FakeContext, api_event

ROOT = Path(__file__).resolve().parents[1]
MEMBERS = sized(50, 11)  # 11: the seed spreads transfers over ten of them
TRANSFERS = sized(30, 3)
BUDGET_S = sized(14.0, 0.0)  # per query: its GraphQL calls and its floor calls together
MIN_REPEAT, MAX_REPEAT = sized((10, 150), (2, 2))
ME = "{ me { id handle displayName roles } }"
WALLET = (
    "{ wallet { balances { asset amount scale }"
    " transfers(first: 20) { edges { node { id from to amount kind } } pageInfo { hasNextPage endCursor } } } }"
)
GROUP = (
    "query($id: ID!) { group(id: $id) { name memberCount members(first: 50) {"
    " edges { node { entityId role entity { handle displayName } } } pageInfo { hasNextPage } } } }"
)


moto_cache = moto_tables  # the read cache on moto, as the tests have it


def apply(aggregate: str, payload: dict[str, Any], version: int = 1) -> None:
    from francium import projector
    from shared.contracts.changes import ChangeRecord

    record = ChangeRecord(
        aggregate=aggregate, version=version, event_type="Seeded", payload=payload, seq=1, occurred_at=datetime.now(UTC)
    )
    projector.apply(record)


def seed() -> tuple[uuid.UUID, uuid.UUID]:
    """A reader with a wallet (3 balances, TRANSFERS transfers) who owns a group of MEMBERS; (reader, group)."""
    now = datetime.now(UTC)
    people = [uuid.uuid4() for _ in range(MEMBERS)]
    reader, group = people[0], uuid.uuid4()
    for n, person in enumerate(people):
        entity = {"id": str(person), "kind": "real", "handle": f"b_{n}", "display_name": f"Bench {n}"}
        apply(f"entity#{person}", {**entity, "roles": [], "created_at": now.isoformat(), "version": 1})
        role = "owner" if person == reader else "member"
        joined = (now + timedelta(seconds=n)).isoformat()
        member = {"group_id": str(group), "entity_id": str(person), "role": role, "joined_at": joined, "version": 1}
        apply(f"member#{group}:{person}", member)
    group_state = {"id": str(group), "name": "Bench", "visibility": "private", "owner_id": str(reader)}
    apply(f"group#{group}", {**group_state, "member_count": MEMBERS, "created_at": now.isoformat(), "version": 1})
    for code in ("EUR", "GOLD", "USD"):
        apply(
            f"wallet#{reader}:{code}",
            {"entity_id": str(reader), "asset": code, "amount": 10**6, "scale": 2, "version": 1},
        )
    for n in range(TRANSFERS):
        transfer = {"id": str(uuid.uuid4()), "from": str(reader), "to": str(people[1 + n % 10]), "asset": "USD"}
        created = (now + timedelta(seconds=n)).isoformat()
        apply(f"transfer#{transfer['id']}", {**transfer, "amount": n + 1, "kind": "transfer", "created_at": created})
    return reader, group


def graphql_call(caller: Caller, query: str, variables: dict[str, Any] | None = None) -> Callable[[], None]:
    from francium.app import handler

    event = api_event("POST", "/v1/graphql", body={"query": query, "variables": variables or {}}, caller=caller)

    def call() -> None:
        answer = handler(event, FakeContext())
        if answer["statusCode"] != 200 or "errors" in json.loads(answer["body"]):
            raise RuntimeError(answer["body"])

    return call


def floors(reader: uuid.UUID, group: uuid.UUID) -> dict[str, Callable[[], None]]:
    """The bare DynamoDB calls each query's answer needs."""
    from francium import cache

    def me() -> None:
        cache.get(f"entity#{reader}")

    def wallet() -> None:
        cache.query_page(f"wallet#{reader}", index="gsi1", limit=100, newest_first=False)
        cache.query_page(f"history#{reader}", index="gsi1", limit=20)

    def members() -> None:
        cache.get(f"group#{group}")
        cache.get(f"member#{group}:{reader}")
        items, _ = cache.query_page(f"members#{group}", index="gsi1", limit=MEMBERS, newest_first=False)
        cache.batch_get([(f"entity#{i['entity_id']}", cache.STATE) for i in items])

    return {"me": me, "wallet": wallet, "group_50_members": members}


def requests_of(fn: Callable[[], None]) -> int:
    from shared.aws import dynamodb

    count = {"n": 0}

    def hook(**_: Any) -> None:
        count["n"] += 1

    events = dynamodb().meta.events
    events.register("before-call.dynamodb", hook)
    try:
        fn()
    finally:
        events.unregister("before-call.dynamodb", hook)
    return count["n"]


def paired(query: Callable[[], None], floor: Callable[[], None]) -> tuple[list[float], list[float]]:
    """Alternated samples of a query and its floor, as many as fit the time budget."""
    for _ in range(WARMUP):
        query()
        floor()
    started = time.perf_counter()
    query()
    floor()
    repeat = int(min(MAX_REPEAT, max(MIN_REPEAT, BUDGET_S / (time.perf_counter() - started))))
    return alternating(query, floor, repeat, warmup=0)


def run(env: BenchEnv) -> list[Figure]:
    figures: list[Figure] = []
    with moto_cache():
        reader, group = seed()
        caller = Caller(entity_id=reader, kind="real")
        queries = {
            "me": graphql_call(caller, ME),
            "wallet": graphql_call(caller, WALLET),
            "group_50_members": graphql_call(caller, GROUP, {"id": str(group)}),
        }
        bare = floors(reader, group)
        for name, query in queries.items():
            graph_samples, floor_samples = paired(query, bare[name])
            ms, floor = summary(graph_samples), summary(floor_samples)
            note = f"POST /v1/graphql via the real handler, moto in-process, {len(graph_samples)} paired runs"
            figures.append(
                Figure(f"francium.graphql_{name}_p50", ms["p50"], "ms", "dynamodb floor p50", floor["p50"], note)
            )
            figures.append(Figure(f"francium.graphql_{name}_p99", ms["p99"], "ms", "dynamodb floor p99", floor["p99"]))
            figures.append(
                Figure(
                    f"francium.graphql_{name}_requests",
                    requests_of(query),
                    "calls",
                    "floor calls",
                    requests_of(bare[name]),
                )
            )
    return figures
