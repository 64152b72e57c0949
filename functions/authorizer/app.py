"""Authorizer entry point. API Gateway caches its answer per token for at most 60 s.

``Unauthorized`` becomes API Gateway's 401 (the exact error message "Unauthorized"); any other
failure, ``NotReady`` included, is an authorizer failure, answered by the stack's
``AUTHORIZER_FAILURE`` gateway response: 503 ``not_ready`` with ``Retry-After``.
"""

from __future__ import annotations

from typing import Any

from shared.auth.authorizer import authorize
from shared.errors import NotReady, Unauthorized
from shared.observability import count, invocation, logger
from shared.readcache import token_holder
from shared.repair import repair_now


class AuthorizerNotReady(Exception):
    """The read side does not know a fresh token's holder yet (lag after a login)."""


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    invocation(context)
    try:
        return authorize(event, token_holder, repair=lambda lost: repair_now(lost) is not None)
    except Unauthorized as refused:
        logger.info("token refused", extra={"reason": refused.detail})
        count("TokensRefused")
        raise Exception("Unauthorized") from None  # the exact message API Gateway reads as 401
    except NotReady as lagging:
        logger.info("token holder not yet projected", extra={"reason": lagging.detail})
        raise AuthorizerNotReady(lagging.detail) from None
