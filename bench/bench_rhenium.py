"""Rhenium's costs: a platform broadcast, an inbox page at 10, 1,000 and 100,000 messages, an inbox
page and the unread count for readers in 1, 10, 100 and 1,000 groups, and a group broadcast's
fan-out to 10,000 members on the local stack (``bench.fanout_stack``).

Writes go through Fluorine's bus in-process against the benchmark's PostgreSQL. Inbox pages go
through Francium's real handler against a read cache seeded directly (the ``SortedTable``
stand-in: moto scans the whole table for every index query, DynamoDB does not). A page's figures
are its latency, its DynamoDB requests and the items it reads: flat in the inbox's size.

The group figures run against the stand-in with a round trip of ``ROUND_TRIP`` per request (what a
DynamoDB read takes in-region), so that the sources an inbox reads at the same time overlap as they
would deployed; without it the stand-in answers in microseconds and only CPU would be measured.
The reader's groups are small, so their broadcasts reach it as fanned-out copies (the projection
of each broadcast's ``BroadcastFannedOut`` event); ``..._groups_read_time_...`` figures give the
same reader's page when every group is over the fan-out limit and is read at read time.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from bench import fanout_stack
from bench.harness import SCALE_SIZES, BenchEnv, Figure, Goal, flat_goal, scale_baseline, sized, summary, timed
from bench.social_seed import read_cache, seed_entities
from bench.sorted_table import SortedTable
from shared.context import Caller
from tests.support.events import FakeContext, api_event

ENTITIES = sized(10_000, 50)
REPEAT = sized(100, 3)
PAGE_REPEAT = sized(50, 3)
SIZES = SCALE_SIZES
GROUPS = 3
GROUP_COUNTS = sized((1, 10, 100, 1_000), (1, 3, 10))
BROADCASTS_PER_GROUP = 3
ROUND_TRIP = sized(0.005, 0.001)  # seconds per DynamoDB request in the group figures
GROUP_REPEAT = sized(20, 2)
FANOUT_MEMBERS = sized(10_000, 200)
FANOUT_SAMPLES = sized(5, 2)
SMALL_GROUP_SAMPLES = sized(20, 3)
EPOCH = datetime(2030, 1, 1, tzinfo=UTC)


def _broadcasts(env: BenchEnv, figures: list[Figure]) -> None:
    from fluorine import bus
    from shared.contracts.rhenium import SendMessage, SendPlatformBroadcast
    from tests.support.factories import admin_actor

    ids = seed_entities(env.database_url, ENTITIES)
    sender, recipient = admin_actor(ids[0]), ids[1]  # an admin may send both

    def direct() -> None:
        command = SendMessage(id=uuid.uuid4(), sender_id=sender.entity_id, to_entity=recipient, body="hi")
        bus.execute(command.model_dump(mode="json"), actor=sender)

    def platform() -> None:
        command = SendPlatformBroadcast(id=uuid.uuid4(), sender_id=sender.entity_id, body="all")
        bus.execute(command.model_dump(mode="json"), actor=sender)

    one = summary(timed(direct, repeat=REPEAT))
    everyone = summary(timed(platform, repeat=REPEAT))
    note = f"{ENTITIES:,}+ active entities; one row and one change record whatever the audience"
    figures.append(
        Figure("rhenium.platform_broadcast_p50", everyone["p50"], "ms", "direct message p50", one["p50"], note)
    )
    figures.append(Figure("rhenium.platform_broadcast_p99", everyone["p99"], "ms", note=note))


def _apply(aggregate: str, event: str, state: object) -> None:
    from francium import projector
    from shared.contracts.changes import ChangeRecord

    payload = state.model_dump(mode="json")  # type: ignore[attr-defined]
    projector.apply(
        ChangeRecord(aggregate=aggregate, version=1, event_type=event, payload=payload, seq=1, occurred_at=EPOCH)
    )


def _authorized(entity_id: uuid.UUID) -> Caller:
    """The caller the authorizer makes of an entity seeded by ``_new_entity`` (registered at EPOCH)."""
    return Caller(entity_id=entity_id, kind="real", registered_at=EPOCH)


def _new_entity(name: str) -> uuid.UUID:
    """A registered entity, projected straight into the read cache."""
    from shared.contracts import oxygen

    entity = uuid.uuid4()
    _apply(
        oxygen.entity_aggregate(entity),
        "EntityRegistered",
        oxygen.EntityState(
            id=entity,
            kind="real",
            handle=f"{name[0].lower()}_{entity.hex[:12]}",
            display_name=name,
            created_at=EPOCH,
            version=1,
        ),
    )
    return entity


def _new_group_of(member: uuid.UUID, *, fanned: bool = False) -> uuid.UUID:
    """A group with ``member`` in it since ``EPOCH``, projected straight into the read cache."""
    from shared.contracts import carbon

    group = uuid.uuid4()
    _apply(
        carbon.group_aggregate(group),
        "GroupCreated",
        carbon.GroupState(
            id=group, name="g", visibility="public", owner_id=member, member_count=1, created_at=EPOCH, version=1
        ),
    )
    _apply(
        carbon.member_aggregate(group, member),
        "MemberJoined",
        carbon.MemberState(group_id=group, entity_id=member, role="member", joined_at=EPOCH, fanned=fanned, version=1),
    )
    return group


def _seed_reader(size: int) -> uuid.UUID:
    """A reader with ``size`` messages: 60% direct, 30% broadcasts of its 3 groups, 10% platform."""
    from shared.contracts import rhenium

    reader = _new_entity("Reader")
    groups = [_new_group_of(reader) for _ in range(GROUPS)]
    for i in range(size):
        slot = i % 10
        audience: dict[str, object] = (
            {"to_entity": reader} if slot < 6 else {"to_group": groups[i % GROUPS]} if slot < 9 else {"to_all": True}
        )
        state = rhenium.MessageState.model_validate(
            {"id": uuid.uuid4(), "body": "m", "sent_at": EPOCH + timedelta(milliseconds=i), **audience}
        )
        _apply(rhenium.message_aggregate(state.id), "MessageSent", state)
    return reader


def _middle_cursor(size: int) -> str:
    """A cursor halfway down an inbox of ``size`` messages (a deep page, reached directly)."""
    from shared.pagination import encode_cursor
    from shared.readcache import timekey

    return encode_cursor({"before": f"{timekey(EPOCH + timedelta(milliseconds=size // 2))}#"}) or ""


def _inbox(table: SortedTable, figures: list[Figure]) -> None:
    from francium.app import handler

    first_pages: dict[int, float] = {}
    items_read: dict[int, int] = {}
    for size in SIZES:
        reader = _authorized(_seed_reader(size))

        def page(query: dict[str, str] | None = None, who: Caller = reader) -> None:
            answer = handler(api_event("GET", "/v1/messages/inbox", query=query, caller=who), FakeContext())
            assert answer["statusCode"] == 200, answer["body"]

        first = summary(timed(page, repeat=PAGE_REPEAT))
        deep = summary(timed(lambda: page({"cursor": _middle_cursor(size)}), repeat=PAGE_REPEAT))  # noqa: B023
        unread = summary(timed(lambda: page({"unread": "true"}), repeat=PAGE_REPEAT))
        table.reset_counters()
        page()
        first_pages[size] = first["p50"]
        base = scale_baseline(size, first_pages, "messages")
        figures.append(Figure(f"rhenium.inbox_page_{size}_messages_p50", first["p50"], "ms", *base, note="limit 20"))
        figures.append(
            Figure(f"rhenium.inbox_deep_page_{size}_messages_p50", deep["p50"], "ms", note="cursor halfway down")
        )
        figures.append(Figure(f"rhenium.inbox_unread_page_{size}_messages_p50", unread["p50"], "ms"))
        figures.append(Figure(f"rhenium.inbox_page_{size}_messages_requests", table.requests, "requests"))
        items_read[size] = table.items_read
        flat = flat_goal(size, items_read)
        figures.append(Figure(f"rhenium.inbox_page_{size}_messages_items_read", table.items_read, "items", goal=flat))


def _seed_member_of(group_count: int, *, fanned: bool) -> uuid.UUID:
    """A reader with 20 direct messages, in ``group_count`` groups of 3 recent broadcasts each,
    which reach it as copies (``fanned``) or are read from the groups' partitions."""
    from shared.contracts import rhenium

    reader = _new_entity("Member")
    sent = itertools.count()
    for _ in range(group_count):
        group = _new_group_of(reader, fanned=fanned)
        for _ in range(BROADCASTS_PER_GROUP):
            at = EPOCH + timedelta(seconds=1, milliseconds=next(sent))
            state = rhenium.MessageState(id=uuid.uuid4(), to_group=group, body="news", sent_at=at)
            _apply(rhenium.message_aggregate(state.id), "MessageSent", state)
            if fanned:
                copies = rhenium.FanoutBatch(message=state, batch=0, recipients=[reader])
                _apply(rhenium.fanout_aggregate(state.id, 0), rhenium.BROADCAST_FANNED_OUT, copies)
    for _ in range(20):
        at = EPOCH + timedelta(seconds=1, milliseconds=next(sent))
        state = rhenium.MessageState(id=uuid.uuid4(), to_entity=reader, body="hi", sent_at=at)
        _apply(rhenium.message_aggregate(state.id), "MessageSent", state)
    # Its unread count as Fluorine keeps it: everything in its own partition, nothing read yet
    own = 20 + (group_count * BROADCASTS_PER_GROUP if fanned else 0)
    count = rhenium.InboxCount(entity_id=reader, unread=own, version=1)
    _apply(rhenium.unread_aggregate(reader), rhenium.UNREAD_COUNTED, count)
    return reader


def _many_groups(table: SortedTable, figures: list[Figure]) -> None:
    """Page and unread count against the reader's group count: fanned-out groups (the copies are
    in the reader's own partition), then the same with every group read at read time."""
    from francium.app import handler

    def get(path: str, who: Caller, query: dict[str, str] | None = None) -> None:
        answer = handler(api_event("GET", path, query=query, caller=who), FakeContext())
        assert answer["statusCode"] == 200, answer["body"]

    note = f"{BROADCASTS_PER_GROUP} broadcasts per group, 20 direct messages, {ROUND_TRIP * 1000:g} ms per request"
    first, last = GROUP_COUNTS[0], GROUP_COUNTS[-1]
    for fanned, kind in ((True, ""), (False, "_read_time")):
        requests: dict[int, int] = {}
        p50s: dict[int, float] = {}
        for count in GROUP_COUNTS:
            reader = _authorized(_seed_member_of(count, fanned=fanned))
            page = summary(timed(lambda: get("/v1/messages/inbox", reader), repeat=GROUP_REPEAT))  # noqa: B023
            table.reset_counters()
            get("/v1/messages/inbox", reader)
            requests[count], p50s[count] = table.requests, page["p50"]
            goal = fanned and count > 100
            figures.append(
                Figure(
                    f"rhenium.inbox_page_{count}_groups{kind}_requests",
                    table.requests,
                    "requests",
                    f"{first} group(s)",
                    requests[first],
                    note,
                    Goal("ratio_at_most", 2.0, "at most 2x the requests of a reader in one group") if goal else None,
                )
            )
            figures.append(
                Figure(f"rhenium.inbox_page_{count}_groups{kind}_items_read", table.items_read, "items", note=note)
            )
            figures.append(
                Figure(
                    f"rhenium.inbox_page_{count}_groups{kind}_p50",
                    page["p50"],
                    "ms",
                    f"{first} group(s)",
                    p50s[first],
                    note,
                    Goal("ratio_at_most", 2.0, "p50 at most 2x a reader's in one group") if goal else None,
                )
            )
            if fanned and count in (first, last):
                suffix = "" if count == first else f"_{count}_groups"
                _unread_against_get_item(table, reader, get, figures, note, suffix)


def _unread_against_get_item(
    table: SortedTable, reader: Caller, get: Any, figures: list[Figure], note: str, suffix: str
) -> None:
    """The unread count against one GetItem through the same path (a public profile read)."""
    profile = f"/v1/entities/{reader.entity_id}"
    one = summary(timed(lambda: get(profile, reader), repeat=GROUP_REPEAT))
    count = summary(timed(lambda: get("/v1/messages/unread-count", reader), repeat=GROUP_REPEAT))
    table.reset_counters()
    get("/v1/messages/unread-count", reader)
    goal = Goal("ratio_at_most", 1.5, "at most 1.5x a single GetItem through the same path")
    name, floor = f"rhenium.unread_count{suffix}_p50", "one GetItem (profile) p50"
    figures.append(Figure(name, count["p50"], "ms", floor, one["p50"], note, goal))
    figures.append(Figure(f"rhenium.unread_count{suffix}_requests", table.requests, "requests", note=note))


def run(env: BenchEnv) -> list[Figure]:
    figures: list[Figure] = []
    _broadcasts(env, figures)
    with read_cache() as table:
        _inbox(table, figures)
    with read_cache(latency=ROUND_TRIP) as table:
        _many_groups(table, figures)
    figures += fanout_stack.run(env, FANOUT_MEMBERS, FANOUT_SAMPLES, SMALL_GROUP_SAMPLES)
    return figures
