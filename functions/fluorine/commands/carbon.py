"""Carbon's commands on groups: create, update, delete, hand over ownership.

Every command on a group locks its row first (``FOR UPDATE``), so membership changes, role
checks and ``member_count`` of one group are serialized; different groups never wait on each other.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fluorine.bus import command_handler
from fluorine.commands.rhenium import move_unread
from fluorine.uow import UnitOfWork
from shared.access import require_group_role
from shared.contracts.carbon import (
    CreateGroup,
    DeleteGroup,
    GroupState,
    MemberState,
    TransferOwnership,
    UpdateGroup,
    group_aggregate,
    member_aggregate,
)
from shared.contracts.rhenium import COPIES_WITHDRAWN, FANOUT_BATCH, Withdrawal, withdrawal_aggregate
from shared.errors import NotFound
from shared.settings import get_settings

# Column lists named as the state models' fields (rows are read straight into them).
GROUP_COLUMNS = (
    "id, name, description, visibility, owner_id, member_count, created_at, deleted_at IS NOT NULL AS deleted,"
    " fanned_members, version"
)
MEMBER_COLUMNS = "group_id, entity_id, role, joined_at, left_at, fanned, version"
MANAGERS = ("owner", "admin")


def lock_group(uow: UnitOfWork, group_id: UUID) -> GroupState:
    """The live group, locked for this transaction; 404 if it does not exist (or was deleted)."""
    group = uow.one(
        GroupState, f"SELECT {GROUP_COLUMNS} FROM groups WHERE id = %s AND deleted_at IS NULL FOR UPDATE", (group_id,)
    )
    if group is None:
        raise NotFound("The group does not exist.")
    return group


def membership(uow: UnitOfWork, group_id: UUID, entity_id: UUID) -> MemberState | None:
    """The entity's current membership of the group, if any."""
    return uow.one(
        MemberState,
        f"SELECT {MEMBER_COLUMNS} FROM group_members WHERE group_id = %s AND entity_id = %s AND left_at IS NULL",
        (group_id, entity_id),
    )


def guard(uow: UnitOfWork, group: GroupState, actor_id: UUID, allowed: tuple[str, ...]) -> MemberState | None:
    """The actor's membership, once their role allows the action (404 to outsiders of private groups)."""
    mine = membership(uow, group.id, actor_id)
    require_group_role(mine.role if mine else None, allowed, private=group.visibility == "private")
    return mine


def save_group(uow: UnitOfWork, group_id: UUID, assignments: str, params: tuple[Any, ...], event: str) -> GroupState:
    state = uow.found(
        GroupState,
        f"UPDATE groups SET {assignments}, version = version + 1, updated_at = now()"
        f" WHERE id = %s RETURNING {GROUP_COLUMNS}",
        (*params, group_id),
    )
    uow.emit(group_aggregate(state.id), state.version, event, state)
    return state


def save_member(uow: UnitOfWork, group_id: UUID, entity_id: UUID, assignments: str, event: str) -> MemberState:
    state = uow.found(
        MemberState,
        f"UPDATE group_members SET {assignments}, version = version + 1"
        f" WHERE group_id = %s AND entity_id = %s RETURNING {MEMBER_COLUMNS}",
        (group_id, entity_id),
    )
    uow.emit(member_aggregate(group_id, entity_id), state.version, event, state)
    return state


@command_handler(CreateGroup, acts_as="owner_id")
def create_group(cmd: CreateGroup, uow: UnitOfWork) -> GroupState:
    uow.execute(
        "INSERT INTO groups (id, name, description, visibility, owner_id, member_count) VALUES (%s, %s, %s, %s, %s, 1)",
        (cmd.id, cmd.name, cmd.description, cmd.visibility, cmd.owner_id),
    )
    owner = uow.found(
        MemberState,
        f"INSERT INTO group_members (group_id, entity_id, role, fanned) VALUES (%s, %s, 'owner', %s)"
        f" RETURNING {MEMBER_COLUMNS}",
        (cmd.id, cmd.owner_id, get_settings().fanout_limit >= 1),
    )
    state = uow.found(GroupState, f"SELECT {GROUP_COLUMNS} FROM groups WHERE id = %s", (cmd.id,))
    uow.emit(group_aggregate(state.id), state.version, "GroupCreated", state)
    uow.emit(member_aggregate(cmd.id, cmd.owner_id), owner.version, "MemberJoined", owner)
    return state


@command_handler(UpdateGroup, acts_as="actor_id")
def update_group(cmd: UpdateGroup, uow: UnitOfWork) -> GroupState:
    group = lock_group(uow, cmd.group_id)
    guard(uow, group, cmd.actor_id, MANAGERS)
    return save_group(
        uow,
        group.id,
        "name = %s, description = %s, visibility = %s",
        (
            cmd.name or group.name,
            cmd.description if cmd.description_set else group.description,
            cmd.visibility or group.visibility,
        ),
        "GroupUpdated",
    )


@command_handler(DeleteGroup, acts_as="actor_id")
def delete_group(cmd: DeleteGroup, uow: UnitOfWork) -> GroupState:
    group = lock_group(uow, cmd.group_id)
    guard(uow, group, cmd.actor_id, ("owner",))
    deleted = save_group(uow, group.id, "deleted_at = now()", (), "GroupDeleted")
    withdraw_copies(uow, group.id)
    return deleted


def withdraw_copies(uow: UnitOfWork, group_id: UUID) -> None:
    """Take each holder's unread copies of the group's broadcasts off its unread count, and emit
    the moved counts as ``CopiesWithdrawn`` events of ``FANOUT_BATCH``, in the deletion's own
    transaction: its write version names them, so a read that waits for the deletion finds every
    count moved. Under the group's lock: no fan-out or read mark of its broadcasts runs meanwhile."""
    unread = {row[0]: -row[1] for row in uow.execute(UNREAD_COPIES_OF_GROUP, (group_id,))}
    counts = move_unread(uow, unread)
    for number, start in enumerate(range(0, len(counts), FANOUT_BATCH)):
        withdrawn = Withdrawal(group_id=group_id, batch=number, counts=counts[start : start + FANOUT_BATCH])
        uow.emit(withdrawal_aggregate(group_id, number), withdrawn.version, COPIES_WITHDRAWN, withdrawn)


# Per holder, its copies of the group's broadcasts already fanned out that it has not read: what
# its unread count holds of the group (fanned spans do not overlap, so a copy is counted once).
UNREAD_COPIES_OF_GROUP = """
    SELECT s.entity_id, count(*) FROM messages m
    JOIN broadcast_fanouts f ON f.message_id = m.id
    JOIN fanout_spans s ON s.group_id = m.to_group AND s.joined_at <= m.sent_at
                       AND (s.left_at IS NULL OR s.left_at > m.sent_at)
    WHERE m.to_group = %s
      AND NOT EXISTS (SELECT 1 FROM message_reads r WHERE r.message_id = m.id AND r.entity_id = s.entity_id)
    GROUP BY s.entity_id
"""


@command_handler(TransferOwnership, acts_as="actor_id")
def transfer_ownership(cmd: TransferOwnership, uow: UnitOfWork) -> GroupState:
    group = lock_group(uow, cmd.group_id)
    guard(uow, group, cmd.actor_id, ("owner",))
    if cmd.entity_id == cmd.actor_id:  # already the owner: nothing changes
        uow.left_in_place(group_aggregate(group.id), group.version)
        return group
    if membership(uow, group.id, cmd.entity_id) is None:
        raise NotFound("That entity is not a member of the group.")
    save_member(uow, group.id, cmd.actor_id, "role = 'admin'", "MemberRoleChanged")
    save_member(uow, group.id, cmd.entity_id, "role = 'owner'", "MemberRoleChanged")
    return save_group(uow, group.id, "owner_id = %s", (cmd.entity_id,), "GroupOwnerChanged")
