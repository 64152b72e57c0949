"""Carbon's commands on memberships: join, add, change a role, remove or leave."""

from __future__ import annotations

from uuid import UUID

from fluorine.bus import command_handler
from fluorine.commands.carbon import (
    MANAGERS,
    MEMBER_COLUMNS,
    guard,
    lock_group,
    membership,
    save_group,
    save_member,
)
from fluorine.uow import UnitOfWork
from shared.contracts.carbon import (
    AddMember,
    ChangeMemberRole,
    GroupState,
    JoinGroup,
    MemberState,
    RemoveMember,
    member_aggregate,
)
from shared.errors import Conflict, Forbidden, NotFound, OperationFailed
from shared.settings import get_settings


def require_active_entity(uow: UnitOfWork, entity_id: UUID) -> None:
    row = uow.execute("SELECT 1 FROM entities WHERE id = %s AND status = 'active'", (entity_id,)).fetchone()
    if row is None:
        raise NotFound("The entity does not exist.")


def enrol(uow: UnitOfWork, group: GroupState, entity_id: UUID, role: str) -> MemberState:
    """A new (or renewed) membership from now on; 409 if the entity is already a member.

    It is fanned (the group's broadcasts are copied into the member's inbox) when the group has at
    most ``fanout_limit`` members with it: so at most that many current memberships of a group are
    ever fanned, and a broadcast's fan-out is bounded whatever the group's size.
    """
    fanned = group.member_count + 1 <= get_settings().fanout_limit
    state = uow.one(
        MemberState,
        f"INSERT INTO group_members AS m (group_id, entity_id, role, fanned) VALUES (%s, %s, %s, %s)"
        f" ON CONFLICT (group_id, entity_id) DO UPDATE SET role = EXCLUDED.role, joined_at = clock_timestamp(),"
        f" left_at = NULL, fanned = EXCLUDED.fanned, version = m.version + 1 WHERE m.left_at IS NOT NULL"
        f" RETURNING {MEMBER_COLUMNS}",
        (group.id, entity_id, role, fanned),
    )
    if state is None:
        raise Conflict("That entity is already a member of the group.")
    uow.emit(member_aggregate(group.id, entity_id), state.version, "MemberJoined", state)
    save_group(uow, group.id, "member_count = member_count + 1", (), "GroupMembershipChanged")
    return state


def target_of(uow: UnitOfWork, group_id: UUID, entity_id: UUID) -> MemberState:
    found = membership(uow, group_id, entity_id)
    if found is None:
        raise NotFound("That entity is not a member of the group.")
    return found


@command_handler(JoinGroup, acts_as="entity_id")
def join_group(cmd: JoinGroup, uow: UnitOfWork) -> MemberState:
    group = lock_group(uow, cmd.group_id)
    mine = membership(uow, group.id, cmd.entity_id)
    if group.visibility == "private":
        if mine is None:
            raise Forbidden("A private group can only be joined by invitation.")
        raise Conflict("You are already a member of the group.")
    return enrol(uow, group, cmd.entity_id, "member")


@command_handler(AddMember, acts_as="actor_id")
def add_member(cmd: AddMember, uow: UnitOfWork) -> MemberState:
    group = lock_group(uow, cmd.group_id)
    actor = guard(uow, group, cmd.actor_id, MANAGERS)
    if cmd.role == "admin" and actor is not None and actor.role != "owner":
        raise Forbidden("Only the owner may add admins.")
    require_active_entity(uow, cmd.entity_id)
    return enrol(uow, group, cmd.entity_id, cmd.role)


@command_handler(ChangeMemberRole, acts_as="actor_id")
def change_member_role(cmd: ChangeMemberRole, uow: UnitOfWork) -> MemberState:
    group = lock_group(uow, cmd.group_id)
    guard(uow, group, cmd.actor_id, ("owner",))
    target = target_of(uow, group.id, cmd.entity_id)
    if target.role == "owner":
        raise OperationFailed("The owner's role changes only by handing ownership over (POST .../owner).")
    if target.role == cmd.role:
        uow.left_in_place(member_aggregate(group.id, cmd.entity_id), target.version)
        return target
    return save_member(uow, group.id, cmd.entity_id, f"role = '{cmd.role}'", "MemberRoleChanged")


@command_handler(RemoveMember, acts_as="actor_id")
def remove_member(cmd: RemoveMember, uow: UnitOfWork) -> MemberState:
    group = lock_group(uow, cmd.group_id)
    if cmd.entity_id == cmd.actor_id:
        if target_of(uow, group.id, cmd.actor_id).role == "owner":
            raise OperationFailed("The owner cannot leave; hand ownership over first.")
    else:
        actor = guard(uow, group, cmd.actor_id, MANAGERS)
        target = target_of(uow, group.id, cmd.entity_id)
        if target.role == "owner" or (target.role == "admin" and actor is not None and actor.role != "owner"):
            raise Forbidden("Your role does not allow removing that member.")
    state = save_member(uow, group.id, cmd.entity_id, "left_at = clock_timestamp()", "MemberLeft")
    save_group(uow, group.id, "member_count = member_count - 1", (), "GroupMembershipChanged")
    return state
