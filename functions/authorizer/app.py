"""Authorizer entry point. API Gateway caches its answer per token for at most 60 s."""

from __future__ import annotations

from typing import Any

from shared.auth.authorizer import authorize
from shared.auth.tokens import AccessClaims
from shared.errors import Unauthorized
from shared.observability import logger


def refuse_deactivated(claims: AccessClaims) -> list[str] | None:
    """A deactivated entity's tokens, and those of a revoked login session, stop working; the
    entity's current platform roles (None if the read side does not know it yet) win over the token's.

    These facts come from the read cache, in one batch read.
    """
    from francium.views.sessions import token_holder

    entity, session = token_holder(claims.sub, claims.sid)
    if entity is not None and entity.status != "active":
        raise Unauthorized("The entity is deactivated.")
    if session is not None and session.revoked:
        raise Unauthorized("The login session was revoked.")
    return list(entity.roles) if entity is not None else None


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        return authorize(event, refuse_deactivated)
    except Unauthorized as refused:
        logger.info("token refused", extra={"reason": refused.detail})
        raise Exception("Unauthorized") from None
