"""The API Gateway (REST) Lambda TOKEN authorizer's logic.

Valid token → an Allow policy for the whole API (so API Gateway may cache it for every route)
and the caller in the context; anything else → ``Unauthorized``, which API Gateway turns into
the 401 gateway response.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.auth.tokens import AccessClaims, bearer_token, verify_access_token
from shared.errors import Unauthorized

# A check that may refuse a verified token (deactivated entity, revoked session). It may answer the
# entity's current platform roles, which then win over the token's: a role change applies to tokens
# already issued (locally on the next request; deployed, within the authorizer cache TTL).
ClaimsCheck = Callable[[AccessClaims], list[str] | None]


def api_wildcard_arn(method_arn: str) -> str:
    """``arn:aws:execute-api:region:account:api/stage/*/*`` from one method's ARN."""
    prefix, _, rest = method_arn.partition(":execute-api:")
    if not rest:
        return method_arn
    parts = rest.split("/")
    return f"{prefix}:execute-api:{parts[0]}/{parts[1] if len(parts) > 1 else '*'}/*/*"


def authorize(event: dict[str, Any], check: ClaimsCheck | None = None) -> dict[str, Any]:
    """The authorizer's answer for a TOKEN (or REQUEST) authorizer event."""
    raw = event.get("authorizationToken")
    if raw is None:
        headers = event.get("headers") or {}
        raw = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
    claims = verify_access_token(bearer_token(raw))
    current = check(claims) if check is not None else None
    roles = claims.roles if current is None else current
    return {
        "principalId": str(claims.sub),
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow",
                    "Resource": api_wildcard_arn(str(event.get("methodArn", "*"))),
                }
            ],
        },
        "context": {"entity_id": str(claims.sub), "kind": claims.kind, "roles": ",".join(sorted(roles))},
    }


__all__ = ["ClaimsCheck", "Unauthorized", "api_wildcard_arn", "authorize"]
