"""Carbon's routes: thin adapters from HTTP to the use cases in ``carbon.logic``."""

from __future__ import annotations

from uuid import UUID

from aws_lambda_powertools.event_handler import Response

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
from shared.context import fingerprint, idempotency_key_of, require_caller
from shared.contracts.carbon import GroupOut, MemberOut
from shared.contracts.changes import Idempotency
from shared.contracts.nickel import DistributionResult
from shared.contracts.rhenium import MessageOut
from shared.errors import NotFound
from shared.http import call_context, create_app, lambda_handler, written

app = create_app()


def uuid_of(raw: str, what: str) -> UUID:
    """A path id; anything that is not a UUID names nothing (404, not 400)."""
    try:
        return UUID(raw)
    except ValueError:
        raise NotFound(f"The {what} does not exist.") from None


def caller_id() -> UUID:
    return require_caller(app.current_event.raw_event).entity_id


@app.post("/v1/groups")
def create_group(body: CreateGroupBody) -> Response[GroupOut]:
    done = logic.create(body, caller_id(), call_context(app))
    return written(201, GroupOut.of(done.result), done.write_version or "")


@app.patch("/v1/groups/<group_id>")
def update_group(group_id: str, body: UpdateGroupBody) -> Response[GroupOut]:
    done = logic.update(uuid_of(group_id, "group"), body, caller_id(), call_context(app))
    return written(200, GroupOut.of(done.result), done.write_version or "")


@app.delete("/v1/groups/<group_id>")
def delete_group(group_id: str) -> Response[None]:
    done = logic.delete(uuid_of(group_id, "group"), caller_id(), call_context(app))
    return written(204, None, done.write_version or "")


@app.post("/v1/groups/<group_id>/join")
def join_group(group_id: str) -> Response[MemberOut]:
    done = logic.join(uuid_of(group_id, "group"), caller_id(), call_context(app))
    return written(201, MemberOut.of(done.result), done.write_version or "")


@app.post("/v1/groups/<group_id>/members")
def add_member(group_id: str, body: AddMemberBody) -> Response[MemberOut]:
    done = logic.add_member(uuid_of(group_id, "group"), body, caller_id(), call_context(app))
    return written(201, MemberOut.of(done.result), done.write_version or "")


@app.patch("/v1/groups/<group_id>/members/<entity_id>")
def change_role(group_id: str, entity_id: str, body: RoleBody) -> Response[MemberOut]:
    group, member = uuid_of(group_id, "group"), uuid_of(entity_id, "member")
    done = logic.change_role(group, member, body, caller_id(), call_context(app))
    return written(200, MemberOut.of(done.result), done.write_version or "")


@app.delete("/v1/groups/<group_id>/members/<entity_id>")
def remove_member(group_id: str, entity_id: str) -> Response[None]:
    group, member = uuid_of(group_id, "group"), uuid_of(entity_id, "member")
    done = logic.remove_member(group, member, caller_id(), call_context(app))
    return written(204, None, done.write_version or "")


@app.post("/v1/groups/<group_id>/owner")
def hand_over(group_id: str, body: OwnerBody) -> Response[GroupOut]:
    done = logic.hand_over(uuid_of(group_id, "group"), body, caller_id(), call_context(app))
    return written(200, GroupOut.of(done.result), done.write_version or "")


@app.post("/v1/groups/<group_id>/broadcast")
def broadcast(group_id: str, body: BroadcastBody) -> Response[MessageOut]:
    done = logic.broadcast(uuid_of(group_id, "group"), body, caller_id(), call_context(app))
    return written(202, MessageOut.of(done.result, read=False), done.write_version or "")


@app.post("/v1/groups/<group_id>/distribute")
def distribute(group_id: str, body: DistributeBody) -> Response[DistributionResult]:
    event = app.current_event.raw_event
    caller = require_caller(event)
    key = idempotency_key_of(event, required=True) or ""
    idem = Idempotency(caller_id=str(caller.entity_id), key=key, fingerprint=fingerprint(event))
    done = logic.distribute(uuid_of(group_id, "group"), body, caller.entity_id, idem, call_context(app))
    return written(201, done.result, done.write_version or "")


handler = lambda_handler(app)
