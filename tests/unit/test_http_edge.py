"""The HTTP edge every element shares: validation, error mapping, request ids, size limit."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from shared.errors import Forbidden
from shared.http import MAX_BODY_BYTES, create_app, lambda_handler
from shared.validation import Amount
from tests.support.events import FakeContext, api_event, response_header, response_json

app = create_app()


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: Amount


@app.post("/v1/things")
def create(body: Body) -> dict[str, Any]:
    return {"amount": body.amount}


@app.get("/v1/forbidden")
def forbidden() -> dict[str, Any]:
    raise Forbidden("not yours")


@app.get("/v1/boom")
def boom() -> dict[str, Any]:
    raise RuntimeError("secret connection string postgres://u:p@host")


handler = lambda_handler(app)


def call(event: dict[str, Any]) -> dict[str, Any]:
    return handler(event, FakeContext())


def test_a_valid_body_is_validated_and_answered() -> None:
    answer = call(api_event("POST", "/v1/things", body={"amount": 9_223_372_036_854_775_807}))
    assert answer["statusCode"] == 200
    assert response_json(answer) == {"amount": 9_223_372_036_854_775_807}


def test_amounts_refuse_strings_fractions_zero_and_overflow() -> None:
    for amount in ["10", 1.5, 1.0, 0, -1, 9_223_372_036_854_775_808, True]:
        answer = call(api_event("POST", "/v1/things", body={"amount": amount}))
        assert answer["statusCode"] == 400, amount
        problem = response_json(answer)
        assert problem["code"] == "invalid_request"
        assert problem["errors"][0]["loc"] == ["body", "amount"]


def test_malformed_json_and_non_objects_are_400() -> None:
    for body in ["{nope", "[]", "null", '"text"']:
        answer = call(api_event("POST", "/v1/things", body=body))
        assert answer["statusCode"] == 400, body
        assert response_header(answer, "Content-Type") == "application/problem+json"


def test_a_form_content_type_is_still_read_as_json() -> None:
    event = api_event(
        "POST", "/v1/things", body='{"amount": 5}', headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response_json(call(event)) == {"amount": 5}


def test_unknown_routes_and_methods_are_endpoint_not_found() -> None:
    for method, path in [("GET", "/v1/nothing"), ("DELETE", "/v1/things")]:
        answer = call(api_event(method, path))
        assert answer["statusCode"] == 404
        assert response_json(answer)["code"] == "endpoint_not_found"


def test_app_errors_keep_their_status_and_code() -> None:
    answer = call(api_event("GET", "/v1/forbidden"))
    assert answer["statusCode"] == 403
    assert response_json(answer)["code"] == "forbidden"


def test_unexpected_errors_are_500_without_internals() -> None:
    answer = call(api_event("GET", "/v1/boom"))
    assert answer["statusCode"] == 500
    problem = response_json(answer)
    assert problem["code"] == "internal_error"
    assert "postgres" not in answer["body"]
    assert problem["request_id"] == response_header(answer, "X-Request-Id")


def test_every_response_carries_the_request_id_echoing_a_valid_one() -> None:
    answer = call(api_event("POST", "/v1/things", body={"amount": 1}, headers={"X-Request-Id": "abc-123"}))
    assert response_header(answer, "X-Request-Id") == "abc-123"
    invalid = call(api_event("GET", "/v1/nothing", headers={"X-Request-Id": "has spaces"}))
    assert response_header(invalid, "X-Request-Id") not in (None, "has spaces")


def test_an_oversized_body_is_413_and_never_reaches_the_route() -> None:
    answer = call(api_event("POST", "/v1/things", body="x" * (MAX_BODY_BYTES + 1)))
    assert answer["statusCode"] == 413
    assert response_json(answer)["code"] == "payload_too_large"


def test_nul_characters_anywhere_are_400_with_their_location() -> None:
    answer = call(api_event("POST", "/v1/things", body='{"amount": 1, "memo": "a\\u0000b"}'))
    assert answer["statusCode"] == 400
    assert response_json(answer)["errors"][0]["loc"] == ["body", "memo"]
    query = call(api_event("GET", "/v1/forbidden", query={"q": "x\x00"}))
    assert query["statusCode"] == 400
    assert response_json(query)["errors"][0]["loc"] == ["query", "q"]
