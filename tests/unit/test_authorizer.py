"""The TOKEN authorizer's answers (the JWT attack cases live in test_tokens.py)."""

from __future__ import annotations

import uuid

import pytest

from shared.auth.authorizer import api_wildcard_arn, authorize
from shared.auth.tokens import AccessClaims
from shared.errors import Unauthorized
from tests.support.tokens import token_for

METHOD_ARN = "arn:aws:execute-api:eu-west-1:123456789012:abc123/dev/GET/v1/entities/me"


def test_a_valid_token_is_allowed_for_the_whole_api_with_the_caller_in_context() -> None:
    entity = uuid.uuid4()
    answer = authorize(
        {"authorizationToken": f"Bearer {token_for(entity, 'legal', ['admin'])}", "methodArn": METHOD_ARN}
    )
    assert answer["principalId"] == str(entity)
    statement = answer["policyDocument"]["Statement"][0]
    assert statement == {
        "Action": "execute-api:Invoke",
        "Effect": "Allow",
        "Resource": "arn:aws:execute-api:eu-west-1:123456789012:abc123/dev/*/*",
    }
    assert answer["context"] == {"entity_id": str(entity), "kind": "legal", "roles": "admin"}


@pytest.mark.parametrize(
    "header", [None, "", "Bearer", "Basic dXNlcjpwYXNz", "Bearer not.a.jwt", "token-without-scheme"]
)
def test_a_missing_or_malformed_header_is_unauthorized(header: str | None) -> None:
    with pytest.raises(Unauthorized):
        authorize({"authorizationToken": header, "methodArn": METHOD_ARN})


def test_a_check_may_refuse_a_verified_token() -> None:
    def refuse(claims: AccessClaims) -> None:
        raise Unauthorized("deactivated")

    with pytest.raises(Unauthorized):
        authorize({"authorizationToken": f"Bearer {token_for(uuid.uuid4())}", "methodArn": METHOD_ARN}, refuse)


def test_request_authorizer_events_read_the_authorization_header() -> None:
    entity = uuid.uuid4()
    event = {"headers": {"authorization": f"Bearer {token_for(entity)}"}, "methodArn": METHOD_ARN}
    assert authorize(event)["principalId"] == str(entity)


def test_wildcard_arn_keeps_api_and_stage() -> None:
    assert api_wildcard_arn(METHOD_ARN).endswith("abc123/dev/*/*")
    assert api_wildcard_arn("*") == "*"
