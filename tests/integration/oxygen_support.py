"""Helpers for Oxygen's integration tests: call its handler and the authorizer like API Gateway."""

from __future__ import annotations

import uuid
from typing import Any

from shared.context import Caller
from shared.contracts.oxygen import EntityOut
from tests.support.events import FakeContext, api_event, response_json
from tests.support.streams import StreamDriver

PASSWORD = "correct horse battery staple"
METHOD_ARN = "arn:aws:execute-api:eu-central-1:123456789012:api1234/dev/GET/v1/entities/me"


def oxygen(method: str, path: str, *, caller: Caller | None = None, **kwargs: Any) -> dict[str, Any]:
    from oxygen.app import handler

    return handler(api_event(method, path, caller=caller, **kwargs), FakeContext())


def francium(method: str, path: str, *, caller: Caller | None = None, **kwargs: Any) -> dict[str, Any]:
    from francium.app import handler

    return handler(api_event(method, path, caller=caller, **kwargs), FakeContext())


def register(stack: StreamDriver, **fields: Any) -> EntityOut:
    """Register through the real route and project it (the read side knows the entity)."""
    body = {
        "kind": "real",
        "handle": f"u_{uuid.uuid4().hex[:10]}",
        "display_name": "Someone",
        "password": PASSWORD,
        **fields,
    }
    response = oxygen("POST", "/v1/entities", body=body)
    assert response["statusCode"] == 201, response
    stack.drain()
    return EntityOut.model_validate(response_json(response))


def caller_of(entity: EntityOut) -> Caller:
    """The caller an access token of a new login session of ``entity`` makes (the session is
    published; the next drain projects it)."""
    from fluorine import db
    from fluorine.publisher import publish
    from tests.support.factories import start_session

    actor, started = start_session(entity.id)
    publish(db.connection(), started.records)
    return Caller(entity_id=entity.id, kind=entity.kind, roles=frozenset(entity.roles), session_id=actor.session_id)


def login(login: str, password: str = PASSWORD, source: str = "127.0.0.1") -> dict[str, Any]:
    """A login through the real handler, from the source address ``source``."""
    event = api_event("POST", "/v1/auth/token", body={"login": login, "password": password})
    event["requestContext"]["identity"]["sourceIp"] = source
    from oxygen.app import handler

    return handler(event, FakeContext())


def authorize(access_token: str) -> dict[str, Any]:
    """The authorizer's answer for a bearer token (raises ``Exception('Unauthorized')`` on refusal)."""
    from authorizer.app import handler

    event = {"type": "TOKEN", "authorizationToken": f"Bearer {access_token}", "methodArn": METHOD_ARN}
    return handler(event, FakeContext())
