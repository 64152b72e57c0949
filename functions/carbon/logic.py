"""Carbon's use cases: each builds one Fluorine command from a validated body and the caller."""

from __future__ import annotations

import uuid
from uuid import UUID

from carbon.models import (
    AddMemberBody,
    BroadcastBody,
    CreateGroupBody,
    DistributeBody,
    OwnerBody,
    RoleBody,
    UpdateGroupBody,
)
from shared import internal
from shared.contracts.carbon import (
    AddMember,
    ChangeMemberRole,
    CreateGroup,
    DeleteGroup,
    GroupState,
    JoinGroup,
    ListRecipients,
    MemberState,
    Recipients,
    RemoveMember,
    TransferOwnership,
    UpdateGroup,
)
from shared.contracts.changes import Idempotency
from shared.contracts.nickel import DistributeAsset, DistributionResult
from shared.contracts.rhenium import MessageState, SendGroupBroadcast
from shared.errors import OperationFailed

Context = internal.CallContext
MAX_RECIPIENTS = 10_000  # DistributeAsset's bound


def create(body: CreateGroupBody, owner_id: UUID, context: Context) -> internal.CallResult[GroupState]:
    command = CreateGroup(
        id=uuid.uuid4(),
        owner_id=owner_id,
        name=body.name.strip(),
        description=body.description,
        visibility=body.visibility,
    )
    return internal.call("fluorine", command, GroupState, context)


def update(group_id: UUID, body: UpdateGroupBody, actor_id: UUID, context: Context) -> internal.CallResult[GroupState]:
    command = UpdateGroup(
        group_id=group_id,
        actor_id=actor_id,
        name=body.name.strip() if body.name else None,
        description=body.description,
        description_set="description" in body.model_fields_set,
        visibility=body.visibility,
    )
    return internal.call("fluorine", command, GroupState, context)


def delete(group_id: UUID, actor_id: UUID, context: Context) -> internal.CallResult[GroupState]:
    return internal.call("fluorine", DeleteGroup(group_id=group_id, actor_id=actor_id), GroupState, context)


def join(group_id: UUID, entity_id: UUID, context: Context) -> internal.CallResult[MemberState]:
    return internal.call("fluorine", JoinGroup(group_id=group_id, entity_id=entity_id), MemberState, context)


def add_member(
    group_id: UUID, body: AddMemberBody, actor_id: UUID, context: Context
) -> internal.CallResult[MemberState]:
    command = AddMember(group_id=group_id, actor_id=actor_id, entity_id=body.entity_id, role=body.role)
    return internal.call("fluorine", command, MemberState, context)


def change_role(
    group_id: UUID, entity_id: UUID, body: RoleBody, actor_id: UUID, context: Context
) -> internal.CallResult[MemberState]:
    command = ChangeMemberRole(group_id=group_id, actor_id=actor_id, entity_id=entity_id, role=body.role)
    return internal.call("fluorine", command, MemberState, context)


def remove_member(
    group_id: UUID, entity_id: UUID, actor_id: UUID, context: Context
) -> internal.CallResult[MemberState]:
    command = RemoveMember(group_id=group_id, actor_id=actor_id, entity_id=entity_id)
    return internal.call("fluorine", command, MemberState, context)


def hand_over(group_id: UUID, body: OwnerBody, actor_id: UUID, context: Context) -> internal.CallResult[GroupState]:
    command = TransferOwnership(group_id=group_id, actor_id=actor_id, entity_id=body.entity_id)
    return internal.call("fluorine", command, GroupState, context)


def broadcast(
    group_id: UUID, body: BroadcastBody, actor_id: UUID, context: Context
) -> internal.CallResult[MessageState]:
    """One message row for the whole group: members' inboxes read it (fan-out on read)."""
    command = SendGroupBroadcast(id=uuid.uuid4(), group_id=group_id, actor_id=actor_id, body=body.body)
    return internal.call("fluorine", command, MessageState, context)


def distribute(
    group_id: UUID, body: DistributeBody, actor_id: UUID, idempotency: Idempotency, context: Context
) -> internal.CallResult[DistributionResult]:
    """The caller pays ``amount_each`` to every other member: one all-or-nothing ledger transaction.

    Carbon checks the role and lists the members; Nickel posts every payment in one transaction,
    and the Idempotency-Key makes a repeat answer the first result and move nothing more.
    """
    listed = internal.call("fluorine", ListRecipients(group_id=group_id, actor_id=actor_id), Recipients, context)
    recipients = listed.result.recipients
    if len(recipients) > MAX_RECIPIENTS:
        raise OperationFailed(f"A distribution pays at most {MAX_RECIPIENTS:,} members at once.")
    command = DistributeAsset(
        idempotency=idempotency,
        from_entity=actor_id,
        asset=body.asset,
        amount_each=body.amount_each,
        recipients=recipients,
    )
    done = internal.call("fluorine", command, DistributionResult, context)
    # A distribution that pays no one still answers a write version: the group's, as listed.
    return done if done.write_version else done.model_copy(update={"write_version": listed.write_version})
