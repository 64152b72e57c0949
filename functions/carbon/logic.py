"""Carbon's use cases: each builds one Fluorine command from a validated body and the call."""

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
from shared.contracts.nickel import DistributeAsset, DistributionResult
from shared.contracts.rhenium import MessageState, SendGroupBroadcast
from shared.errors import OperationFailed
from shared.routes import Call

MAX_RECIPIENTS = 10_000  # DistributeAsset's bound


def create(body: CreateGroupBody, call: Call) -> internal.CallResult[GroupState]:
    command = CreateGroup(
        id=uuid.uuid4(),
        owner_id=call.entity_id,
        name=body.name.strip(),
        description=body.description,
        visibility=body.visibility,
    )
    return internal.call("fluorine", command, GroupState, call.context)


def update(group_id: UUID, body: UpdateGroupBody, call: Call) -> internal.CallResult[GroupState]:
    command = UpdateGroup(
        group_id=group_id,
        actor_id=call.entity_id,
        name=body.name.strip() if body.name else None,
        description=body.description,
        description_set="description" in body.model_fields_set,
        visibility=body.visibility,
    )
    return internal.call("fluorine", command, GroupState, call.context)


def delete(group_id: UUID, call: Call) -> internal.CallResult[GroupState]:
    return internal.call("fluorine", DeleteGroup(group_id=group_id, actor_id=call.entity_id), GroupState, call.context)


def join(group_id: UUID, call: Call) -> internal.CallResult[MemberState]:
    return internal.call("fluorine", JoinGroup(group_id=group_id, entity_id=call.entity_id), MemberState, call.context)


def add_member(group_id: UUID, body: AddMemberBody, call: Call) -> internal.CallResult[MemberState]:
    command = AddMember(group_id=group_id, actor_id=call.entity_id, entity_id=body.entity_id, role=body.role)
    return internal.call("fluorine", command, MemberState, call.context)


def change_role(group_id: UUID, entity_id: UUID, body: RoleBody, call: Call) -> internal.CallResult[MemberState]:
    command = ChangeMemberRole(group_id=group_id, actor_id=call.entity_id, entity_id=entity_id, role=body.role)
    return internal.call("fluorine", command, MemberState, call.context)


def remove_member(group_id: UUID, entity_id: UUID, call: Call) -> internal.CallResult[MemberState]:
    command = RemoveMember(group_id=group_id, actor_id=call.entity_id, entity_id=entity_id)
    return internal.call("fluorine", command, MemberState, call.context)


def hand_over(group_id: UUID, body: OwnerBody, call: Call) -> internal.CallResult[GroupState]:
    command = TransferOwnership(group_id=group_id, actor_id=call.entity_id, entity_id=body.entity_id)
    return internal.call("fluorine", command, GroupState, call.context)


def broadcast(group_id: UUID, body: BroadcastBody, call: Call) -> internal.CallResult[MessageState]:
    """One message row for the whole group; its copies into members' inboxes are written later, from
    the change feed (docs/architecture.md, "Messaging fan-out")."""
    command = SendGroupBroadcast(id=uuid.uuid4(), group_id=group_id, actor_id=call.entity_id, body=body.body)
    return internal.call("fluorine", command, MessageState, call.context)


def distribute(group_id: UUID, body: DistributeBody, call: Call) -> internal.CallResult[DistributionResult]:
    """The caller pays ``amount_each`` to every other member: one all-or-nothing ledger transaction.

    Carbon checks the role and lists the members; Nickel posts every payment in one transaction,
    and the Idempotency-Key makes a repeat answer the first result and move nothing more.
    """
    listing = ListRecipients(group_id=group_id, actor_id=call.entity_id)
    listed = internal.call("fluorine", listing, Recipients, call.context)
    recipients = listed.result.recipients
    if len(recipients) > MAX_RECIPIENTS:
        raise OperationFailed(f"A distribution pays at most {MAX_RECIPIENTS:,} members at once.")
    command = DistributeAsset(
        idempotency=call.idempotency,
        from_entity=call.entity_id,
        asset=body.asset,
        amount_each=body.amount_each,
        recipients=recipients,
    )
    done = internal.call("fluorine", command, DistributionResult, call.context)
    # A distribution that pays no one still answers a write version: the group's, as listed.
    return done if done.write_version else done.model_copy(update={"write_version": listed.write_version})
