"""Messages in the read cache, and the inbox as a merge of a few partitions (fan-out on read).

- ``message#<id>`` / ``state``: the message, on GSI1 in its audience's partition — ``inbox#<entity>``
  (direct), ``gbox#<group>`` (group broadcast) or ``pbox`` (platform broadcast) — sorted by
  ``<sent_at>#<id>`` (unique, so cursors are stable when messages share a timestamp).
- ``read#<message>:<entity>`` / ``state``: the entity has read the message; on GSI1 in
  ``reads#<entity>@<audience partition>`` under the message's sort key, so the reads of one source
  of an inbox are counted over the same window as its messages.

An inbox page reads each source partition once, from the cursor's position down, inside the
window the caller belongs to it (group: membership; platform: since registration), and merges
them: its cost depends on the page size and the caller's groups, not on the inbox's size.

The unread count is, per source, the messages in its window less the caller's reads in the same
window: two ``COUNT`` queries per source, no item read back, exact as the projections stand.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import cache as once
from typing import TypeVar
from uuid import UUID

from francium import cache
from francium.cache import CacheItem
from francium.projector import projection
from francium.views import groups
from francium.views.entities import entity
from shared import aws
from shared.contracts.carbon import MemberState, member_aggregate
from shared.contracts.changes import ChangeRecord
from shared.contracts.rhenium import MessageKey, MessageState, ReadState, message_aggregate, read_aggregate
from shared.readcache import decode, timekey

PLATFORM = "pbox"
LOWEST, HIGHEST = "0", "~"  # below and above every time key
# An inbox reads its sources at the same time: a reader in 100 groups waits for about 100 / READERS
# round trips instead of 100 (the requests are the same; see issue #16 for fan-out on write).
READERS = 16
T = TypeVar("T")


@once
def _readers() -> ThreadPoolExecutor:
    """Threads kept for the container's life (boto3 clients are safe to share between threads)."""
    return ThreadPoolExecutor(max_workers=READERS, thread_name_prefix="inbox-source")


def each_source(work: Callable[[Source], T], all_sources: list[Source]) -> list[T]:
    """``work`` on every source, in order; concurrently once there are more than the usual two."""
    if len(all_sources) <= 2:
        return [work(s) for s in all_sources]
    aws.dynamodb()  # made here, once, and lent to the reader threads
    clients = aws.current_clients()

    def lent(source: Source) -> T:
        aws.use_clients(clients)
        return work(source)

    return list(_readers().map(lent, all_sources))


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


@projection("message")
def project_message(record: ChangeRecord) -> list[CacheItem]:
    state = MessageState.model_validate(record.payload)
    indexes = {"gsi1pk": audience_partition(state), "gsi1sk": sort_key(state)}
    return [CacheItem(record.aggregate, cache.STATE, record.version, state.model_dump(mode="json"), indexes)]


@projection("read")
def project_read(record: ChangeRecord) -> list[CacheItem]:
    state = ReadState.model_validate(record.payload)
    indexes = {}
    if state.message is not None:  # read marks written before unread counts have no key: not counted
        indexes = {
            "gsi1pk": reads_partition(state.entity_id, audience_partition(state.message)),
            "gsi1sk": f"{timekey(state.message.sent_at)}#{state.message_id}",
        }
    return [CacheItem(record.aggregate, cache.STATE, record.version, state.model_dump(mode="json"), indexes)]


@dataclass(frozen=True)
class Source:
    """One partition of an inbox and the window [since, until) in which it belongs to the reader."""

    partition: str
    since: datetime | None = None
    until: datetime | None = None


def sources(entity_id: UUID) -> list[Source]:
    found = [Source(f"inbox#{entity_id}")]
    me = entity(entity_id)
    if me is not None:
        found.append(Source(PLATFORM, since=me.created_at))
    found += [Source(f"gbox#{m.group_id}", m.joined_at, m.left_at) for m in groups.memberships(entity_id)]
    return found


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
    """The ``count`` newest messages across every source (a k-way merge of sorted runs)."""
    runs = each_source(lambda s: newest(s, before, count), all_sources)
    merged_runs = heapq.merge(*runs, key=lambda pair: pair[0], reverse=True)
    return list(itertools.islice(merged_runs, count))


def read_ids(message_ids: list[UUID], entity_id: UUID) -> set[UUID]:
    found = cache.batch_get([(read_aggregate(m, entity_id), cache.STATE) for m in message_ids])
    return {decode(ReadState, d).message_id for d in found.values()}


def inbox_page(
    entity_id: UUID, limit: int, before: str | None, unread: bool | None
) -> tuple[list[tuple[MessageState, bool]], str | None]:
    """A page of the inbox, newest first; the sort key to continue before (None at the end).

    ``unread`` filters on the caller's read marks: True only unread, False only read, None all.
    """
    all_sources = sources(entity_id)
    out: list[tuple[str, MessageState, bool]] = []
    while True:
        batch = merged(all_sources, before, limit + 1)
        read = read_ids([s.id for _, s in batch], entity_id)
        for key, state in batch:
            if len(out) == limit:
                return [(s, r) for _, s, r in out], out[-1][0]
            if unread is None or (state.id not in read) == unread:
                out.append((key, state, state.id in read))
        if len(batch) <= limit:
            return [(s, r) for _, s, r in out], None
        before = batch[-1][0]


def unread_count(entity_id: UUID) -> int:
    """How many messages ``inbox_page(unread=True)`` would list, over all its pages.

    A read mark projected before its message (the read side lagging on one aggregate) would make a
    source count below zero for a moment: a source never counts less than nothing.
    """

    def unread_in(source: Source) -> int:
        low, high = window(source)
        if low > high:
            return 0
        sent = cache.count_range(source.partition, index="gsi1", low=low, high=high)
        if sent == 0:
            return 0
        read = cache.count_range(reads_partition(entity_id, source.partition), index="gsi1", low=low, high=high)
        return max(0, sent - read)

    return sum(each_source(unread_in, sources(entity_id)))


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
        return (
            window is not None
            and window.joined_at <= state.sent_at
            and (window.left_at is None or state.sent_at < window.left_at)
            and groups.group(state.to_group) is not None
        )
    if state.to_all:
        me = entity(entity_id)
        return me is not None and me.created_at <= state.sent_at
    return False
