"""Messages in the read cache, and the inbox as a merge of a few partitions (hybrid fan-out).

- ``message#<id>`` / ``state``: the message, on GSI1 in its audience's partition — ``inbox#<entity>``
  (direct), ``gbox#<group>`` (group broadcast) or ``pbox`` (platform broadcast) — sorted by
  ``<sent_at>#<id>`` (unique, so cursors are stable when messages share a timestamp).
- ``fanout#<message>:<batch>`` / ``copy#<entity>``: a group broadcast's copy for one fanned member
  (``BroadcastFannedOut``, up to 1,000 recipients per event), on GSI1 in the member's own
  ``inbox#<entity>`` under the message's sort key, and on GSI2 in ``copies#<entity>@gbox#<group>``.
- ``read#<message>:<entity>`` / ``state``: the entity has read the message; on GSI1 in
  ``reads#<entity>@<the partition the reader finds it in>`` under the message's sort key, so the
  reads of one source of an inbox are counted over the same window as its messages (a copy's read
  is also on GSI2 in ``copyreads#<entity>@gbox#<group>``).

An inbox page reads its own partition (direct messages and copies), the platform's, and one
partition per group the caller reads at read time (a membership that began while the group was
over the fan-out limit: few for anyone), each once from the cursor's position down inside the
window the caller belongs to it, and merges them: its cost depends on the page size and those few
groups, not on the inbox's size or the number of the caller's groups.

The unread count is the caller's counter for its own partition (``francium.views.inbox_counts``)
and, for the platform's partition and each group read at read time, the messages in the caller's
window less its reads in the same window: two ``COUNT`` queries per source, no item read back.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import cache as once
from functools import partial
from typing import Any, TypeVar
from uuid import UUID

from francium import cache
from francium.cache import CacheItem
from francium.projector import projection
from francium.views import groups
from francium.views.entities import entity
from francium.views.inbox_counts import counted, inbox_count
from shared import aws
from shared.contracts.carbon import MemberState, group_aggregate, member_aggregate
from shared.contracts.changes import ChangeRecord
from shared.contracts.rhenium import (
    FanoutBatch,
    MessageKey,
    MessageState,
    ReadState,
    message_aggregate,
    read_aggregate,
)
from shared.readcache import decode, timekey

PLATFORM = "pbox"
LOWEST, HIGHEST = "0", "~"  # below and above every time key
# An inbox reads its sources at the same time: a reader of 100 groups' partitions waits for about
# 100 / READERS round trips instead of 100 (fan-out on write keeps such readers rare).
READERS = 16
COPY = "copy#"  # a fan-out copy's sort key prefix
S = TypeVar("S")
T = TypeVar("T")


@once
def _readers() -> ThreadPoolExecutor:
    """Threads kept for the container's life (boto3 clients are safe to share between threads)."""
    return ThreadPoolExecutor(max_workers=READERS, thread_name_prefix="inbox-source")


def at_once(work: Callable[[S], T], items: list[S]) -> list[T]:
    """``work`` on every item, answers in order, the reads at the same time (one round trip's wait
    instead of one per item, for a thread hand-off of tens of microseconds)."""
    if len(items) <= 1:
        return [work(i) for i in items]
    aws.dynamodb()  # made here, once, and lent to the reader threads
    return aws.in_threads(_readers(), work, items)


def registration(entity_id: UUID, registered_at: datetime | None) -> datetime | None:
    """When the entity registered: ``registered_at`` as the authorizer read it, else from the entity
    (None if the read side does not know it: no platform broadcast is in its inbox yet)."""
    if registered_at is not None:
        return registered_at
    me = entity(entity_id)
    return me.created_at if me is not None else None


def audience_partition(state: MessageState | MessageKey) -> str:
    if state.to_entity is not None:
        return f"inbox#{state.to_entity}"
    if state.to_group is not None:
        return f"gbox#{state.to_group}"
    return PLATFORM


def sort_key(state: MessageState) -> str:
    return f"{timekey(state.sent_at)}#{state.id}"


def reads_partition(entity_id: UUID, partition: str) -> str:
    """Where the entity's read marks of one inbox source are indexed."""
    return f"reads#{entity_id}@{partition}"


def copies_partition(entity_id: UUID, group_id: UUID) -> str:
    """Where the entity's copies of one group's broadcasts are indexed (GSI2)."""
    return f"copies#{entity_id}@gbox#{group_id}"


def copy_reads_partition(entity_id: UUID, group_id: UUID) -> str:
    """Where the entity's read marks of its copies of one group's broadcasts are indexed (GSI2)."""
    return f"copyreads#{entity_id}@gbox#{group_id}"


@projection("message")
def project_message(record: ChangeRecord) -> list[CacheItem]:
    """The message in its audience's partition, after its recipient's unread count (if it moved)."""
    state = MessageState.model_validate(record.payload)
    indexes = {"gsi1pk": audience_partition(state), "gsi1sk": sort_key(state)}
    data = state.model_dump(mode="json", exclude={"inbox"})
    return [*counted(state.inbox), CacheItem(record.aggregate, cache.STATE, record.version, data, indexes)]


@projection("fanout", immutable=True)
def project_fanout(record: ChangeRecord) -> list[CacheItem]:
    """One copy of the broadcast per recipient, in the recipient's own inbox partition, and the
    event's ``state`` item (written last: a write version waiting for it finds every copy there)."""
    batch = FanoutBatch.model_validate(record.payload)
    message, group = batch.message, batch.message.to_group
    assert group is not None, "only group broadcasts are fanned out"
    data, key = message.model_dump(mode="json", exclude={"inbox"}), sort_key(message)
    done = {"message_id": str(message.id), "batch": batch.batch, "recipients": len(batch.recipients)}
    return [CacheItem(record.aggregate, cache.STATE, record.version, done), *counted(*batch.counts)] + [
        CacheItem(
            record.aggregate,
            f"{COPY}{reader}",
            record.version,
            data,
            {"gsi1pk": f"inbox#{reader}", "gsi1sk": key, "gsi2pk": copies_partition(reader, group), "gsi2sk": key},
        )
        for reader in batch.recipients
    ]


@projection("read")
def project_read(record: ChangeRecord) -> list[CacheItem]:
    state = ReadState.model_validate(record.payload)
    indexes = {}
    if state.message is not None:  # read marks written before unread counts have no key: not counted
        read = state.message
        key = f"{timekey(read.sent_at)}#{state.message_id}"
        partition = f"inbox#{state.entity_id}" if read.delivered else audience_partition(read)
        indexes = {"gsi1pk": reads_partition(state.entity_id, partition), "gsi1sk": key}
        if read.delivered and read.to_group is not None:
            indexes |= {"gsi2pk": copy_reads_partition(state.entity_id, read.to_group), "gsi2sk": key}
    data = state.model_dump(mode="json", exclude={"inbox"})
    return [*counted(state.inbox), CacheItem(record.aggregate, cache.STATE, record.version, data, indexes)]


@dataclass(frozen=True)
class Source:
    """One partition of an inbox and the window [since, until) in which it belongs to the reader."""

    partition: str
    since: datetime | None = None
    until: datetime | None = None
    group: UUID | None = None  # the group whose partition it is, read at read time


def sources(entity_id: UUID, registered_at: datetime | None, live_read_time: list[MemberState]) -> list[Source]:
    """The caller's own partition (direct messages and fanned-out copies), the platform's since
    registration, and the partition of each of ``live_read_time`` (the caller's memberships of
    live groups that read at read time)."""
    return [Source(f"inbox#{entity_id}"), *platform_source(registered_at), *read_time_sources(live_read_time)]


def platform_source(registered_at: datetime | None) -> list[Source]:
    """The platform's partition since the caller registered (none while that is not known)."""
    return [Source(PLATFORM, since=registered_at)] if registered_at is not None else []


def read_time_sources(memberships: list[MemberState]) -> list[Source]:
    """The partition of each of ``memberships``' groups read at read time, in its window."""
    return [Source(f"gbox#{m.group_id}", m.joined_at, m.left_at, m.group_id) for m in memberships if not m.fanned]


def window(source: Source, before: str | None = None) -> tuple[str, str]:
    """The sort-key range [low, high] of a source's messages that belong to the reader."""
    high = min(before or HIGHEST, timekey(source.until) if source.until else HIGHEST)
    low = timekey(source.since) if source.since else LOWEST
    return low, high


def newest(source: Source, before: str | None, count: int) -> list[tuple[str, MessageState]]:
    """The ``count`` newest messages of a source strictly before the ``before`` sort key."""
    low, high = window(source, before)
    if low > high:
        return []
    items = cache.query_range(source.partition, index="gsi1", low=low, high=high, limit=count + 1)
    keyed = [(sort_key(s), s) for s in (decode(MessageState, i) for i in items)]
    return [(k, s) for k, s in keyed if before is None or k < before][:count]


def merged(all_sources: list[Source], before: str | None, count: int) -> list[tuple[str, MessageState]]:
    """The ``count`` newest messages across every source (a k-way merge of sorted runs; a message
    met in two sources, which disjoint windows should prevent, is listed once)."""
    runs = at_once(lambda s: newest(s, before, count), all_sources)
    merged_runs = heapq.merge(*runs, key=lambda pair: pair[0], reverse=True)
    unique = (next(same) for _, same in itertools.groupby(merged_runs, key=lambda pair: pair[0]))
    return list(itertools.islice(unique, count))


def read_ids(message_ids: list[UUID], entity_id: UUID) -> set[UUID]:
    found = cache.batch_get([(read_aggregate(m, entity_id), cache.STATE) for m in message_ids])
    return {decode(ReadState, d).message_id for d in found.values()}


def read_and_live(batch: list[tuple[str, MessageState]], entity_id: UUID, live: set[UUID]) -> set[UUID]:
    """The ids of ``batch``'s messages the entity has read; and, in the same ``BatchGetItem``, which
    groups the batch's copies name are live (``live`` remembers them: a copy of a group deleted
    since is not listed)."""
    unknown = list({s.to_group for _, s in batch if s.to_group is not None and s.to_group not in live})
    marks = [(read_aggregate(s.id, entity_id), cache.STATE) for _, s in batch]
    found = cache.batch_get(marks + [(group_aggregate(g), cache.STATE) for g in unknown])
    live |= {g for g in unknown if (group_aggregate(g), cache.STATE) in found}
    return {decode(ReadState, found[key]).message_id for key in marks if key in found}


def inbox_page(
    entity_id: UUID, limit: int, before: str | None, unread: bool | None, registered_at: datetime | None = None
) -> tuple[list[tuple[MessageState, bool]], str | None]:
    """A page of the inbox, newest first; the sort key to continue before (None at the end).

    ``unread`` filters on the caller's read marks: True only unread, False only read, None all.
    ``registered_at``: when the caller registered, if known (else the entity is read for it).
    """
    registered_at, read_time = together(
        lambda: registration(entity_id, registered_at), lambda: groups.read_time_memberships(entity_id)
    )
    read_time = groups.in_live_groups(read_time)
    all_sources = sources(entity_id, registered_at, read_time)
    live = {m.group_id for m in read_time}
    out: list[tuple[str, MessageState, bool]] = []
    while True:
        fetched = merged(all_sources, before, limit + 1)
        read = read_and_live(fetched, entity_id, live)
        batch = [(k, s) for k, s in fetched if s.to_group is None or s.to_group in live]
        for key, state in batch:
            if len(out) == limit:
                return [(s, r) for _, s, r in out], out[-1][0]
            if unread is None or (state.id not in read) == unread:
                out.append((key, state, state.id in read))
        if len(fetched) <= limit:
            return [(s, r) for _, s, r in out], None
        before = fetched[-1][0]


def unread_count(entity_id: UUID, registered_at: datetime | None = None) -> int:
    """How many messages ``inbox_page(unread=True)`` would list, over all its pages.

    Its own partition's part (direct and system messages, copies of live groups' broadcasts) is
    the entity's unread count, one read (``inbox_counts``); the platform's (since its registration:
    ``registered_at`` as the authorizer read it, else the entity is read first) is counted, two
    small ``COUNT``s; and its memberships read at read time (usually none) are read. All in one
    round trip. A second one only for those groups (each counted in the reader's window, kept if
    the group is live), or when the read side has no count for the entity (nothing ever moved it,
    or the cache lost it): then its own partition is counted as the platform's is, less its copies
    of the groups deleted since (found from its every membership: rare, and slower).

    A read mark projected before its message (the read side lagging on one aggregate) would make a
    source count below zero for a moment: a source never counts less than nothing.
    """
    registered_at = registration(entity_id, registered_at)
    platform = [source_tally(entity_id, s) for s in platform_source(registered_at)]
    counter, read_time, *counts = together(
        lambda: inbox_count(entity_id), lambda: groups.read_time_memberships(entity_id), *counts_of(platform)
    )
    unread = sum(unread_from(platform, iter(counts)))
    tallies = [source_tally(entity_id, s) for s in read_time_sources(read_time)]
    own: list[Tally] = []
    gone: list[Tally] = []
    if counter is not None:
        unread += max(0, counter.unread)
    else:
        own = [source_tally(entity_id, Source(f"inbox#{entity_id}"))]
        gone = [
            Tally(copies_partition(entity_id, g), copy_reads_partition(entity_id, g), "gsi2", LOWEST, HIGHEST)
            for g in groups.deleted_groups_of(entity_id)
        ]
    if not tallies and not own:
        return unread
    live, *counts = together(lambda: groups.in_live_groups(read_time), *counts_of(tallies + own + gone))
    live_groups = {m.group_id for m in live}
    found = iter(unread_from(tallies + own + gone, iter(counts)))
    in_groups = [next(found) for _ in tallies]
    unread += sum(n for t, n in zip(tallies, in_groups, strict=True) if t.group in live_groups)
    unread += sum(next(found) for _ in own) - sum(found)  # the rest: deleted groups' copies
    return max(0, unread)


def together(*calls: Callable[[], Any]) -> list[Any]:
    """Each of ``calls``, at the same time; their answers in order."""
    return at_once(lambda call: call(), list(calls))


def source_tally(entity_id: UUID, source: Source) -> Tally:
    """The unread of one source: its messages in the reader's window less the reader's read marks."""
    partition = source.partition
    return Tally(partition, reads_partition(entity_id, partition), "gsi1", *window(source), source.group)


def counts_of(tallies: list[Tally]) -> list[Callable[[], int]]:
    """The two counts of each tally (messages, then read marks) whose window is not empty."""
    return [
        partial(cache.count_range, partition, index=t.index, low=t.low, high=t.high)
        for t in tallies
        if t.low <= t.high
        for partition in (t.sent, t.read)
    ]


def unread_from(tallies: list[Tally], counts: Iterator[int]) -> list[int]:
    """Each tally's unread from its counts, in ``counts_of``'s order (never below zero; an empty
    window counts nothing)."""
    return [max(0, next(counts) - next(counts)) if t.low <= t.high else 0 for t in tallies]


@dataclass(frozen=True)
class Tally:
    """Unread in one range: messages (``sent``) less read marks (``read``) in [low, high] of an index."""

    sent: str
    read: str
    index: str
    low: str
    high: str
    group: UUID | None = None  # a group's partition, read at read time: counted only while the group is live


def message(message_id: UUID) -> MessageState | None:
    data = cache.get(message_aggregate(message_id))
    return decode(MessageState, data) if data else None


def visible(state: MessageState, entity_id: UUID) -> bool:
    """Whether the entity may see the message: sender, recipient, or in its audience at send time."""
    if entity_id in (state.sender_id, state.to_entity):
        return True
    if state.to_group is not None:
        data = cache.get(member_aggregate(state.to_group, entity_id))
        window = decode(MemberState, data) if data else None
        covered = (
            window is not None
            and window.joined_at <= state.sent_at
            and (window.left_at is None or state.sent_at < window.left_at)
        )
        if not covered:  # or a copy of it in the entity's inbox, from an earlier fanned membership
            key, copies = sort_key(state), copies_partition(entity_id, state.to_group)
            covered = cache.count_range(copies, index="gsi2", low=key, high=key) > 0
        return covered and groups.group(state.to_group) is not None
    if state.to_all:
        me = entity(entity_id)
        return me is not None and me.created_at <= state.sent_at
    return False
