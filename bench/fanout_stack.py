"""A group broadcast's fan-out on the local stack (part of the rhenium topic).

The stack runs as ``make run`` runs it (a child ``python -m infra.local`` on the benchmark's
database, with its own moto server for DynamoDB), so the fan-out goes the whole way: the send's
commit, the change feed, Rhenium's trigger asking Fluorine for the fan-out, the fan-out's events
published, the projector writing the copies.

- ``rhenium.group_broadcast_<N>_members_send_p50``: ``POST /v1/groups/{id}/broadcast`` to a group
  of N fanned members, against the same to a group of one: the fan-out must stay off the request.
- ``rhenium.fanout_<N>_members_complete_p50``: from the broadcast's ``sent_at`` (PostgreSQL's
  clock, this machine's) until every copy is in the read cache (the last copy of each fan-out
  event read back consistently), and ``rhenium.fanout_<N>_members_items_per_s`` from it (2N items:
  each member's copy and its unread count), beside its physical floor: as many items of the same
  shapes and sizes written to the same DynamoDB server with plain ``BatchWriteItem`` calls, 25
  items each and as many in flight as the projector keeps, with nothing else running (the moto
  server's own speed).

The big group's members are seeded with SQL (entities and fanned memberships, the spans written by
the membership trigger as for any join): the read cache does not know them, which the fan-out does
not need.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import psycopg

from bench.harness import BenchEnv, Figure, Goal, summary
from bench.local_stack import local_stack

ADMIN = ("bench_fanout_admin", "bench fanout admin password")
POLL_S = 0.2  # coarse: every poll is work for the stack's DynamoDB server, which the projector waits on
DEADLINE_S = 120.0


def _seed_members(database_url: str, group_id: str, count: int) -> list[str]:
    """``count`` new entities, each a fanned member of the group since now; their ids, sorted as
    PostgreSQL sorts uuids (the fan-out's order)."""
    with psycopg.connect(database_url, autocommit=False) as conn:
        ids = [
            str(row[0])
            for row in conn.execute(
                "INSERT INTO entities (id, kind, handle, display_name, password_hash)"
                " SELECT gen_random_uuid(), 'real', 'fan_' || left(md5(random()::text), 28), 'Fan', 'x'"
                " FROM generate_series(1, %s) RETURNING id",
                (count,),
            )
        ]
        conn.execute(
            "INSERT INTO group_members (group_id, entity_id, role, fanned)"
            " SELECT %s, unnest(%s::uuid[]), 'member', true",
            (group_id, ids),
        )
        conn.execute("UPDATE groups SET member_count = member_count + %s WHERE id = %s", (count, group_id))
    return sorted(ids)


def _last_copies(message_id: str, recipients: list[str]) -> list[tuple[str, str]]:
    """The key of the last copy each fan-out event of the message writes."""
    from shared.contracts.rhenium import FANOUT_BATCH, fanout_aggregate

    batches = range(0, len(recipients), FANOUT_BATCH)
    return [
        (fanout_aggregate(message_id, n), f"copy#{recipients[min(start + FANOUT_BATCH, len(recipients)) - 1]}")
        for n, start in enumerate(batches)
    ]


def _all_there(keys: list[tuple[str, str]]) -> bool:
    from shared.readcache import batch_items

    return len(list(batch_items(keys, consistent=True))) == len(keys)


def _sent_at(message: dict[str, Any]) -> float:
    return datetime.fromisoformat(message["sent_at"]).timestamp()


def _measure(base: str, database_url: str, members: int, samples: int, small_samples: int) -> dict[str, Any]:
    with httpx.Client(base_url=base, timeout=60) as http:
        login = http.post("/v1/auth/token", json={"login": ADMIN[0], "password": ADMIN[1]})
        login.raise_for_status()
        auth = {"Authorization": f"Bearer {login.json()['access_token']}"}

        def group() -> str:
            made = http.post("/v1/groups", json={"name": "bench", "visibility": "private"}, headers=auth)
            made.raise_for_status()
            return str(made.json()["id"])

        def send(group_id: str) -> tuple[float, dict[str, Any]]:
            started = time.perf_counter()
            answer = http.post(f"/v1/groups/{group_id}/broadcast", json={"body": "fan-out bench"}, headers=auth)
            elapsed = (time.perf_counter() - started) * 1000
            assert answer.status_code == 202, answer.text
            return elapsed, answer.json()

        small, big = group(), group()
        me = http.get("/v1/entities/me", headers=auth).json()["id"]
        recipients = sorted([me, *_seed_members(database_url, big, members - 1)])
        small_sends = [send(small)[0] for _ in range(small_samples)]
        big_sends, complete = [], []
        for _ in range(samples):
            elapsed, message = send(big)
            big_sends.append(elapsed)
            keys = _last_copies(message["id"], recipients)
            while not _all_there(keys):
                if time.time() - _sent_at(message) > DEADLINE_S:
                    raise TimeoutError(f"the fan-out of {message['id']} did not complete in {DEADLINE_S} s")
                time.sleep(POLL_S)
            complete.append((time.time() - _sent_at(message)) * 1000)
    return {"small": small_sends, "big": big_sends, "complete": complete}


def _bare_batch_writes(members: int) -> float:
    """Items per second of plain ``BatchWriteItem``s of the items a fan-out to ``members`` writes
    (made by the fan-out's own projection, under a message of their own: a copy and an unread count
    per member) to the DynamoDB this process points at."""
    from concurrent.futures import ThreadPoolExecutor

    import boto3

    from francium.cache import BATCH_ITEMS, WRITERS, conditional_put, table
    from francium.views.messages import project_fanout
    from shared.contracts.changes import ChangeRecord
    from shared.contracts.rhenium import BROADCAST_FANNED_OUT, FanoutBatch, InboxCount, MessageState, fanout_aggregate
    from shared.settings import get_settings

    message = MessageState(id=uuid.uuid4(), to_group=uuid.uuid4(), body="fan-out bench", sent_at=datetime.now(UTC))
    recipients = [uuid.uuid4() for _ in range(members)]
    counts = [InboxCount(entity_id=r, unread=1, version=1) for r in recipients]
    batch = FanoutBatch(message=message, batch=0, recipients=recipients, counts=counts)
    record = ChangeRecord(
        aggregate=fanout_aggregate(message.id, 0),
        version=1,
        event_type=BROADCAST_FANNED_OUT,
        payload=batch.model_dump(mode="json"),
        seq=1,
        occurred_at=message.sent_at,
    )
    items = [conditional_put(i)["Item"] for i in project_fanout(record)[1:]]  # copies and counts, not the state
    settings = get_settings()
    client = boto3.client("dynamodb", endpoint_url=settings.dynamodb_endpoint, region_name=settings.region)
    requests = [
        {table(): [{"PutRequest": {"Item": i}} for i in items[start : start + BATCH_ITEMS]]}
        for start in range(0, len(items), BATCH_ITEMS)
    ]

    def write(request: dict[str, Any]) -> None:
        while request:
            request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        list(pool.map(write, requests))
    return len(items) / (time.perf_counter() - started)


def run(env: BenchEnv, members: int, samples: int, small_samples: int) -> list[Figure]:
    with local_stack(env.database_url, ADMIN, "fanout") as url:
        measured = _measure(url, env.database_url, members, samples, small_samples)
        floor = _bare_batch_writes(members)
    small, big, complete = summary(measured["small"]), summary(measured["big"]), summary(measured["complete"])
    note = f"{samples} broadcasts to {members:,} fanned members, one at a time; {small_samples} to a group of one"
    return [
        Figure(
            f"rhenium.group_broadcast_{members}_members_send_p50",
            big["p50"],
            "ms",
            "a group of one: send p50",
            small["p50"],
            note,
            Goal("ratio_at_most", 1.5, "send p50 within 1.5x a 1-member group's"),
        ),
        Figure(
            f"rhenium.fanout_{members}_members_complete_p50",
            complete["p50"],
            "ms",
            note=f"{note}; from sent_at until every copy is in the read cache",
            goal=Goal("value_at_most", 10_000.0, "the fan-out completes within 10 s locally"),
        ),
        Figure(
            f"rhenium.fanout_{members}_members_items_per_s",
            2 * members / (complete["p50"] / 1000),
            "items/s",
            "plain BatchWriteItems of as many items of the same shapes (copies, counts) to the same DynamoDB server",
            floor,
            note,
        ),
    ]
