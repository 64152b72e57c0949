"""Carbon's costs: adding 10,000 members, listing them page by page, broadcasting to them.

Writes go through Fluorine's bus in-process against the benchmark's PostgreSQL (each add is its
own transaction under the group's row lock). The member list goes through Francium's real
handler against a read cache seeded by the real projections (the ``SortedTable`` stand-in:
moto scans the whole table for every index query). A broadcast is one message row whatever the
group's size (its copies are written later, from the change feed), so accepting it costs the same
for 1 or 10,000 members.
"""

from __future__ import annotations

import time
import uuid

from bench.harness import BenchEnv, Figure, Goal, sized, summary, timed
from bench.social_seed import project, read_cache, seed_entities
from bench.sorted_table import SortedTable
from shared.context import Caller
from shared.internal import Actor
from tests.support.events import FakeContext, api_event

MEMBERS = sized(10_000, 30)
PAGE = sized(100, 10)
BROADCASTS = sized(100, 3)


def _signed_in(entity_id: uuid.UUID) -> Actor:
    """The entity as the actor of its commands, in a live login session (Fluorine checks it)."""
    from tests.support.factories import start_session

    actor, started = start_session(entity_id)
    project(started.records)
    return actor


def _group(owner: Actor) -> uuid.UUID:
    from fluorine import bus
    from shared.contracts.carbon import CreateGroup

    group = uuid.uuid4()
    command = CreateGroup(id=group, owner_id=owner.entity_id, name="Big", visibility="public")
    outcome = bus.execute(command.model_dump(mode="json"), actor=owner)
    project(outcome.records)
    return group


def _add(group: uuid.UUID, owner: Actor, member: uuid.UUID) -> float:
    """Add one member through the bus; the milliseconds it took (projecting it is not timed)."""
    from fluorine import bus
    from shared.contracts.carbon import AddMember

    command = AddMember(group_id=group, actor_id=owner.entity_id, entity_id=member).model_dump(mode="json")
    started = time.perf_counter()
    outcome = bus.execute(command, actor=owner)
    elapsed = (time.perf_counter() - started) * 1000
    project(outcome.records)
    return elapsed


def _add_members(group: uuid.UUID, owner: Actor, members: list[uuid.UUID], figures: list[Figure]) -> None:
    samples = [_add(group, owner, m) for m in members]
    note = f"{len(members):,} AddMember commands, one durable transaction each"
    figures.append(Figure("carbon.add_10000_members_total", sum(samples) / 1000, "s", note=note))
    first, last = summary(samples[:1000])["p50"], summary(samples[-1000:])["p50"]
    figures.append(Figure("carbon.add_member_p50", summary(samples)["p50"], "ms"))
    figures.append(Figure("carbon.add_member_p99", summary(samples)["p99"], "ms"))
    figures.append(Figure("carbon.add_member_last_1000_p50", last, "ms", "first 1,000 adds p50", first))


def _list_members(table: SortedTable, group: uuid.UUID, reader: Caller, figures: list[Figure]) -> None:
    import json

    from francium.app import handler

    samples: list[float] = []
    seen, cursor = 0, None
    while True:
        query = {"limit": str(PAGE), **({"cursor": cursor} if cursor else {})}
        table.reset_counters()
        started = time.perf_counter()
        answer = handler(api_event("GET", f"/v1/groups/{group}/members", query=query, caller=reader), FakeContext())
        samples.append((time.perf_counter() - started) * 1000)
        body = json.loads(answer["body"])
        seen += len(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == MEMBERS + 1, seen
    note = f"{len(samples)} pages of {PAGE}"
    figures.append(Figure("carbon.list_10001_members_total", sum(samples), "ms", note=note))
    figures.append(Figure("carbon.members_page_p50", summary(samples)["p50"], "ms", note=f"limit {PAGE}"))
    figures.append(Figure("carbon.members_page_requests", table.requests, "requests", note="last page"))


def _broadcasts(big: uuid.UUID, owner: Actor, figures: list[Figure]) -> None:
    from fluorine import bus
    from shared.contracts.rhenium import SendGroupBroadcast

    small = _group(owner)

    def send(group: uuid.UUID) -> None:
        command = SendGroupBroadcast(id=uuid.uuid4(), group_id=group, actor_id=owner.entity_id, body="news")
        bus.execute(command.model_dump(mode="json"), actor=owner)

    small_samples: list[float] = []
    big_samples: list[float] = []
    for _ in range(BROADCASTS):  # interleaved, so other load on the machine hits both alike
        small_samples += timed(lambda: send(small), repeat=1, warmup=0)
        big_samples += timed(lambda: send(big), repeat=1, warmup=0)
    alone, crowd = summary(small_samples), summary(big_samples)
    figures.append(
        Figure(
            "carbon.broadcast_10001_members_p50",
            crowd["p50"],
            "ms",
            "1-member group p50",
            alone["p50"],
            "the copies are written after, from the change feed",
            Goal("ratio_at_most", 1.5, "off the request path: about the cost of a 1-member broadcast"),
        )
    )
    figures.append(Figure("carbon.broadcast_10001_members_p99", crowd["p99"], "ms"))


def run(env: BenchEnv) -> list[Figure]:
    figures: list[Figure] = []
    first, *members = seed_entities(env.database_url, MEMBERS + 1)
    with read_cache() as table:
        owner = _signed_in(first)
        group = _group(owner)
        _add_members(group, owner, members, figures)
        _list_members(table, group, Caller(entity_id=members[-1], kind="real"), figures)
        _broadcasts(group, owner, figures)
    return figures
