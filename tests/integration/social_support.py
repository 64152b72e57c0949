"""Helpers for Carbon's and Rhenium's integration tests: people, calls through the real handlers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fluorine import bus, db
from fluorine.publisher import publish
from shared.context import Caller
from shared.contracts.oxygen import DeactivateEntity, EntityState
from shared.internal import Actor
from tests.support.events import FakeContext, api_event, response_header, response_json
from tests.support.factories import grant_roles, register_entity, start_session
from tests.support.streams import StreamDriver


@dataclass
class Answer:
    status: int
    body: Any
    raw: dict[str, Any]

    def header(self, name: str) -> str | None:
        return response_header(self.raw, name)


def person(stack: StreamDriver, roles: frozenset[str] = frozenset()) -> Caller:
    """A registered entity (granted ``roles``) signed in, published and projected: the caller its token would make."""
    state, outcome = register_entity()
    actor, session = start_session(state.id)
    for done in [outcome, session, *grant_roles(state.id, roles)]:
        publish(db.connection(), done.records)
    stack.drain()
    return Caller(
        entity_id=state.id, kind=state.kind, roles=roles, session_id=actor.session_id, registered_at=state.created_at
    )


def actor(who: Caller) -> Actor:
    return Actor(entity_id=who.entity_id, session_id=who.session_id)


def deactivate(stack: StreamDriver, who: Caller) -> None:
    from datetime import UTC, datetime

    command = DeactivateEntity(entity_id=who.entity_id, at=datetime.now(UTC))
    outcome = bus.execute(command.model_dump(mode="json"), actor=actor(who))
    publish(db.connection(), outcome.records)
    stack.drain()
    assert EntityState.model_validate(outcome.result).status == "deactivated"


def _call(module: str, method: str, path: str, caller: Caller | None, **kwargs: Any) -> Answer:
    import importlib

    handler = importlib.import_module(module).handler
    raw = handler(api_event(method, path, caller=caller, **kwargs), FakeContext())
    return Answer(raw["statusCode"], response_json(raw), raw)


def carbon(stack: StreamDriver, method: str, path: str, caller: Caller | None, **kwargs: Any) -> Answer:
    """A write through Carbon's handler, then the change feed drained to the read side; a group
    broadcast's also to Rhenium's trigger, which fans it out, until the feed is quiet."""
    answer = _call("carbon.app", method, path, caller, **kwargs)
    if path.endswith("/broadcast"):
        stack.settle()
    else:
        stack.drain()
    return answer


def carbon_unfanned(stack: StreamDriver, method: str, path: str, caller: Caller | None, **kwargs: Any) -> Answer:
    """A write through Carbon's handler whose records reach the read side only: Rhenium's trigger
    has not seen them (a group broadcast not fanned out yet, or whose record the trigger lost)."""
    answer = _call("carbon.app", method, path, caller, **kwargs)
    stack.drain()
    return answer


def rhenium(stack: StreamDriver, method: str, path: str, caller: Caller | None, **kwargs: Any) -> Answer:
    answer = _call("rhenium.app", method, path, caller, **kwargs)
    stack.drain()
    return answer


def read(path: str, caller: Caller | None, **kwargs: Any) -> Answer:
    return _call("francium.app", "GET", path, caller, **kwargs)


def new_group(stack: StreamDriver, owner: Caller, visibility: str = "public", name: str = "Climbers") -> dict[str, Any]:
    answer = carbon(stack, "POST", "/v1/groups", owner, body={"name": name, "visibility": visibility})
    assert answer.status == 201, answer.body
    return answer.body  # type: ignore[no-any-return]


def add(stack: StreamDriver, group_id: str, actor: Caller, who: Caller, role: str = "member") -> Answer:
    return carbon(
        stack, "POST", f"/v1/groups/{group_id}/members", actor, body={"entity_id": str(who.entity_id), "role": role}
    )


def inbox_ids(caller: Caller, **query: str) -> list[str]:
    answer = read("/v1/messages/inbox", caller, query=query or None)
    assert answer.status == 200, answer.body
    return [m["id"] for m in answer.body["items"]]
