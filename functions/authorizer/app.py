"""Authorizer entry point. API Gateway caches its answer per token for at most 60 s.

``Unauthorized`` becomes API Gateway's 401 (the exact error message "Unauthorized"); any other
failure, ``NotReady`` included, is an authorizer failure, answered by the stack's
``AUTHORIZER_FAILURE`` gateway response: 503 ``not_ready`` with ``Retry-After``.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import APIGatewayAuthorizerResponse

from shared import snapstart
from shared.auth.authorizer import authorize
from shared.auth.keys import generate_signing_key_pem, signing_key_from_pem, trusted_keys
from shared.auth.tokens import issue_access_token, verify_access_token
from shared.aws import prime_dynamodb
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


@snapstart.prime()
def prime() -> None:
    """Every token check reads the read cache, verifies a signature with the public keys and builds
    a policy: the client and its operations, the keys (SSM), and one token of a throwaway key
    verified and one policy built (pyjwt's, OpenSSL's and Powertools' first-use work)."""
    prime_dynamodb()
    trusted_keys()
    throwaway = signing_key_from_pem(generate_signing_key_pem())
    nobody = str(UUID(int=0))
    token, _ = issue_access_token(UUID(int=0), "real", [], session_id=nobody, key=throwaway)
    verify_access_token(token, keys={throwaway.public.kid: throwaway.public})
    arn = "arn:aws:execute-api:eu-central-1:000000000000:prime/prime/GET/prime"
    policy = APIGatewayAuthorizerResponse.from_route_arn(arn, nobody, {})
    policy.allow_all_routes()
    policy.asdict()
