"""Groups in the read cache.

- ``group#<id>`` / ``state``: the group (a tombstone once deleted); public groups are also on
  GSI1 ``groups#public`` by creation time.
- ``member#<group>:<entity>`` / ``state``: a membership, kept after leaving (with ``left_at``) so
  the inbox knows the window in which the group's broadcasts reach that entity. Current members
  are on GSI1 ``members#<group>`` by ``joined_at``; every membership is on GSI2
  ``groups_of#<entity>``, sort key ``a#...`` while current and ``l#...`` once left.
- ``member#<group>:<entity>`` / ``read_time``: the same membership again, on GSI2 in
  ``read_time_of#<entity>`` only while it is not fanned: the few groups whose partitions an inbox
  page reads, found without reading the entity's every membership.
- ``withdrawal#<group>:<batch>`` / ``state``: a deleted group's ``CopiesWithdrawn`` event (its
  holders' unread counts, moved by the deletion, are ``francium.views.inbox_counts``' items).
"""

from __future__ import annotations

from uuid import UUID

from francium import cache
from francium.cache import CacheItem
from francium.projector import projection
from francium.views.inbox_counts import counted
from shared.contracts.carbon import GroupState, MemberState, group_aggregate, member_aggregate
from shared.contracts.changes import ChangeRecord
from shared.contracts.rhenium import Withdrawal
from shared.errors import NotFound
from shared.readcache import decode, timekey

PUBLIC_GROUPS = "groups#public"
CURRENT, LEFT = "a#", "l#"
READ_TIME = "read_time"
READ_TIME_OF = "read_time_of#"


@projection("group")
def project_group(record: ChangeRecord) -> list[CacheItem]:
    state = GroupState.model_validate(record.payload)
    if state.deleted:
        return [CacheItem(pk=record.aggregate, sk=cache.STATE, ver=record.version, data=None)]
    indexes = {}
    if state.visibility == "public":
        indexes = {"gsi1pk": PUBLIC_GROUPS, "gsi1sk": f"{timekey(state.created_at)}#{state.id}"}
    return [CacheItem(record.aggregate, cache.STATE, record.version, state.model_dump(mode="json"), indexes)]


@projection("member")
def project_member(record: ChangeRecord) -> list[CacheItem]:
    state = MemberState.model_validate(record.payload)
    joined = timekey(state.joined_at)
    indexes = {
        "gsi2pk": f"groups_of#{state.entity_id}",
        "gsi2sk": f"{CURRENT if state.current else LEFT}{joined}#{state.group_id}",
    }
    if state.current:
        indexes |= {"gsi1pk": f"members#{state.group_id}", "gsi1sk": f"{joined}#{state.entity_id}"}
    data = state.model_dump(mode="json")
    read_time = (
        {} if state.fanned else {"gsi2pk": f"{READ_TIME_OF}{state.entity_id}", "gsi2sk": f"{joined}#{state.group_id}"}
    )
    return [
        CacheItem(record.aggregate, cache.STATE, record.version, data, indexes),
        CacheItem(record.aggregate, READ_TIME, record.version, data, read_time),
    ]


@projection("withdrawal", immutable=True)
def project_withdrawal(record: ChangeRecord) -> list[CacheItem]:
    """The holders' moved unread counts, and the event's ``state`` item (written last)."""
    withdrawn = Withdrawal.model_validate(record.payload)
    done = {"group_id": str(withdrawn.group_id), "batch": withdrawn.batch, "counts": len(withdrawn.counts)}
    return [CacheItem(record.aggregate, cache.STATE, record.version, done), *counted(*withdrawn.counts)]


def group(group_id: UUID) -> GroupState | None:
    data = cache.get(group_aggregate(group_id))
    return decode(GroupState, data) if data else None


def groups(group_ids: list[UUID]) -> dict[UUID, GroupState]:
    """The live groups among ``group_ids`` (deleted ones are left out), in one batch read."""
    found = cache.batch_get([(group_aggregate(g), cache.STATE) for g in group_ids])
    states = (decode(GroupState, data) for data in found.values())
    return {state.id: state for state in states}


def membership(group_id: UUID, entity_id: UUID) -> MemberState | None:
    """The entity's current membership of the group, if any."""
    data = cache.get(member_aggregate(group_id, entity_id))
    state = decode(MemberState, data) if data else None
    return state if state and state.current else None


def visible_group(group_id: UUID, entity_id: UUID) -> tuple[GroupState, MemberState | None]:
    """The group and the caller's membership; 404 if it is gone or private to the caller."""
    found = group(group_id)
    mine = membership(group_id, entity_id) if found else None
    if found is None or (found.visibility == "private" and mine is None):
        raise NotFound("The group does not exist.")
    return found, mine


def members_page(group_id: UUID, limit: int, cursor: str | None) -> tuple[list[MemberState], str | None]:
    items, after = cache.query_page(f"members#{group_id}", index="gsi1", limit=limit, cursor=cursor, newest_first=False)
    return [decode(MemberState, i) for i in items], after


def public_groups_page(limit: int, cursor: str | None) -> tuple[list[GroupState], str | None]:
    items, after = cache.query_page(PUBLIC_GROUPS, index="gsi1", limit=limit, cursor=cursor, newest_first=False)
    return [decode(GroupState, i) for i in items], after


def my_groups_page(
    entity_id: UUID, limit: int, cursor: str | None
) -> tuple[list[tuple[GroupState, MemberState]], str | None]:
    """The entity's current groups by joining time, skipping groups deleted since (pages stay full)."""
    out: list[tuple[GroupState, MemberState]] = []
    while True:
        items, cursor = cache.query_page(
            f"groups_of#{entity_id}",
            index="gsi2",
            limit=limit - len(out),
            cursor=cursor,
            newest_first=False,
            sk_prefix=CURRENT,
        )
        members = [decode(MemberState, i) for i in items]
        live = groups([m.group_id for m in members])
        out += [(live[m.group_id], m) for m in members if m.group_id in live]
        if cursor is None or len(out) >= limit:
            return out, cursor


def every_membership(entity_id: UUID) -> list[MemberState]:
    """Every membership the entity has had (current and left), deleted groups' included."""
    return _memberships_on(f"groups_of#{entity_id}")


def read_time_memberships(entity_id: UUID) -> list[MemberState]:
    """The entity's memberships (current and left) that are not fanned: usually none, one query."""
    return _memberships_on(f"{READ_TIME_OF}{entity_id}")


def deleted_groups_of(entity_id: UUID) -> set[UUID]:
    """The groups the entity was ever a member of that are deleted since (its every membership,
    then the groups' items)."""
    every = every_membership(entity_id)
    return {m.group_id for m in every} - {m.group_id for m in in_live_groups(every)}


def _memberships_on(partition: str) -> list[MemberState]:
    found: list[MemberState] = []
    cursor = None
    while True:
        # A page of 1,000 memberships is ~300 KB, under a query's 1 MB: one request for almost everyone.
        items, cursor = cache.query_page(partition, index="gsi2", limit=1000, cursor=cursor)
        found += [decode(MemberState, i) for i in items]
        if cursor is None:
            return found


def in_live_groups(found: list[MemberState]) -> list[MemberState]:
    """The memberships of groups not deleted (one batch read per 100 groups)."""
    live = groups(list(dict.fromkeys(m.group_id for m in found))) if found else {}
    return [m for m in found if m.group_id in live]
