"""Carbon's routes: each declares its answer (and Idempotency-Key) and calls one use case."""

from __future__ import annotations

from carbon import logic
from carbon.models import (
    AddMemberBody,
    BroadcastBody,
    CreateGroupBody,
    DistributeBody,
    OwnerBody,
    RoleBody,
    UpdateGroupBody,
)
from shared import snapstart
from shared.aws import prime_dynamodb
from shared.contracts.carbon import GroupOut, GroupState, MemberOut, MemberState
from shared.contracts.nickel import DistributionResult
from shared.contracts.rhenium import MessageOut, MessageState
from shared.http import create_app, lambda_handler, prime_request
from shared.internal import CallResult, prime_invoke
from shared.routes import Call, Writes, uuid_or_404

app = create_app()
writes = Writes(app)
GROUP = "/v1/groups/<group_id>"
MEMBER = "/v1/groups/<group_id>/members/<entity_id>"


@writes.post("/v1/groups", 201, GroupOut)
def create_group(body: CreateGroupBody, call: Call) -> CallResult[GroupState]:
    """Create a group; the caller is its owner."""
    return logic.create(body, call)


@writes.patch(GROUP, 200, GroupOut)
def update_group(group_id: str, body: UpdateGroupBody, call: Call) -> CallResult[GroupState]:
    """Change a group's name, description or visibility (owner or admin)."""
    return logic.update(uuid_or_404(group_id, "group"), body, call)


@writes.delete(GROUP, 204)
def delete_group(group_id: str, call: Call) -> CallResult[GroupState]:
    """Delete a group (owner)."""
    return logic.delete(uuid_or_404(group_id, "group"), call)


@writes.post(f"{GROUP}/join", 201, MemberOut)
def join_group(group_id: str, call: Call) -> CallResult[MemberState]:
    """Join a public group."""
    return logic.join(uuid_or_404(group_id, "group"), call)


@writes.post(f"{GROUP}/members", 201, MemberOut)
def add_member(group_id: str, body: AddMemberBody, call: Call) -> CallResult[MemberState]:
    """Add a member (owner or admin; only the owner adds admins)."""
    return logic.add_member(uuid_or_404(group_id, "group"), body, call)


@writes.patch(MEMBER, 200, MemberOut)
def change_role(group_id: str, entity_id: str, body: RoleBody, call: Call) -> CallResult[MemberState]:
    """Change a member's role (owner)."""
    return logic.change_role(uuid_or_404(group_id, "group"), uuid_or_404(entity_id, "member"), body, call)


@writes.delete(MEMBER, 204)
def remove_member(group_id: str, entity_id: str, call: Call) -> CallResult[MemberState]:
    """Remove a member (owner or admin), or leave the group."""
    return logic.remove_member(uuid_or_404(group_id, "group"), uuid_or_404(entity_id, "member"), call)


@writes.post(f"{GROUP}/owner", 200, GroupOut)
def hand_over(group_id: str, body: OwnerBody, call: Call) -> CallResult[GroupState]:
    """Hand ownership over to a member (owner)."""
    return logic.hand_over(uuid_or_404(group_id, "group"), body, call)


@writes.post(f"{GROUP}/broadcast", 202, MessageOut)
def broadcast(group_id: str, body: BroadcastBody, call: Call) -> CallResult[MessageState]:
    """Send a message to every member (owner or admin)."""
    return logic.broadcast(uuid_or_404(group_id, "group"), body, call)


@writes.post(f"{GROUP}/distribute", 201, DistributionResult, idempotency="required")
def distribute(group_id: str, body: DistributeBody, call: Call) -> CallResult[DistributionResult]:
    """Pay every other member the same amount, all or nothing (owner or admin)."""
    return logic.distribute(uuid_or_404(group_id, "group"), body, call)


handler = lambda_handler(app)


@snapstart.prime()
def prime() -> None:
    """Every route calls Fluorine and reads the read cache: their clients, and the routes' validation."""
    prime_dynamodb()
    prime_invoke(GroupState)
    prime_request(handler, "POST", "/v1/groups", "{}")
