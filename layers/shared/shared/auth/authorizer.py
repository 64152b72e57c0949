"""The API Gateway (REST) Lambda TOKEN authorizer's logic.

A valid token whose entity is active and whose login session is live → an Allow policy for the
whole API (so API Gateway may cache it for every route) and the caller in the context; anything
else → ``Unauthorized``, which API Gateway turns into the 401 gateway response.

It fails closed: the entity and the session come from the read cache, and one the cache does not
know is refused, never let through on the token's own claims. A token issued moments ago whose
holder the cache does not know yet is ``NotReady`` (the 503 gateway response, ``Retry-After``):
that is lag after a login, which a retry outlives. A holder still unknown seconds after its token
was issued (or whose items cannot be read) was lost by the cache, not yet to come: the authorizer
has the two aggregates re-projected from the truth (``shared.repair``, one round trip) and decides
on what that says, so a damaged cache costs a valid login one slower request, not a 401. What the
cache says is a hint for reads and a fast first refusal; every write is authorized again by
Fluorine on PostgreSQL.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from uuid import UUID

from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import APIGatewayAuthorizerResponse

from shared.auth.tokens import AccessClaims, bearer_token, verify_access_token
from shared.contracts.oxygen import EntityState, entity_aggregate
from shared.contracts.oxygen_auth import SessionState, session_aggregate
from shared.errors import NotReady, Unauthorized

# What the read side knows of a token's holder: its entity and its login session (None: unknown).
HolderLookup = Callable[[UUID, UUID], tuple[EntityState | None, SessionState | None]]
# Has these aggregates re-projected from the truth; whether it was done.
Repair = Callable[[list[str]], bool]
# A token younger than this whose holder the read side does not know is lag, not a forgery.
FRESH_TOKEN_SECONDS = 30
# A holder unknown this long after its token was issued is lost by the cache, not lagging.
REPAIR_AFTER_SECONDS = 5


def holder(
    claims: AccessClaims, look_up: HolderLookup, now: float | None = None, repair: Repair | None = None
) -> EntityState:
    """The token's holder, once the entity is active and the session live."""
    if claims.sid is None:
        raise Unauthorized("The token names no login session.")
    try:
        session_id = UUID(claims.sid)
    except ValueError:
        raise Unauthorized("The token names no login session.") from None
    entity, session = look_up(claims.sub, session_id)
    age = (now if now is not None else time.time()) - claims.iat
    lost = [entity_aggregate(claims.sub), session_aggregate(session_id)]
    if (entity is None or session is None) and age >= REPAIR_AFTER_SECONDS and repair is not None and repair(lost):
        entity, session = look_up(claims.sub, session_id)
    if entity is None or session is None:
        if age < FRESH_TOKEN_SECONDS:
            raise NotReady("The read side does not know this login yet; retry shortly.", headers={"Retry-After": "1"})
        raise Unauthorized("The token's entity or login session is unknown.")
    if entity.status != "active":
        raise Unauthorized("The entity is deactivated.")
    if session.revoked or session.entity_id != claims.sub:
        raise Unauthorized("The login session was revoked.")
    return entity


def authorize(event: dict[str, Any], look_up: HolderLookup, repair: Repair | None = None) -> dict[str, Any]:
    """The authorizer's answer for a TOKEN (or REQUEST) authorizer event."""
    raw = event.get("authorizationToken")
    if raw is None:
        headers = event.get("headers") or {}
        raw = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
    claims = verify_access_token(bearer_token(raw))
    entity = holder(claims, look_up, repair=repair)
    context = {
        "entity_id": str(claims.sub),
        "kind": claims.kind,
        "roles": ",".join(sorted(entity.roles)),
        "session_id": str(claims.sid),
        "registered_at": entity.created_at.isoformat(),
    }
    policy = APIGatewayAuthorizerResponse.from_route_arn(str(event.get("methodArn", "")), str(claims.sub), context)
    policy.allow_all_routes()  # the whole stage: API Gateway may cache the answer for every route
    return policy.asdict()


__all__ = ["FRESH_TOKEN_SECONDS", "HolderLookup", "Unauthorized", "authorize", "holder"]
