"""Authorizer entry point. API Gateway caches its answer per token for at most 60 s."""

from __future__ import annotations

from typing import Any

from shared.auth.authorizer import authorize
from shared.auth.tokens import AccessClaims
from shared.errors import Unauthorized
from shared.observability import logger


def refuse_deactivated(claims: AccessClaims) -> None:
    """A deactivated entity's tokens stop working (the read cache holds its status)."""
    from francium.views.entities import entity

    found = entity(claims.sub)
    if found is not None and found.status != "active":
        raise Unauthorized("The entity is deactivated.")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        return authorize(event, refuse_deactivated)
    except Unauthorized as refused:
        logger.info("token refused", extra={"reason": refused.detail})
        raise Exception("Unauthorized") from None
