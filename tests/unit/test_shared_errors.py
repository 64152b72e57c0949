"""The error hierarchy and its problem+json mapping."""

from __future__ import annotations

from shared.errors import (
    ERRORS_BY_CODE,
    Conflict,
    InternalError,
    InvalidRequest,
    RateLimited,
    field_errors,
    problem,
)


def test_problem_has_every_contract_field() -> None:
    body = problem(Conflict("That handle is already taken."), "req-1")
    assert body == {
        "type": "https://errors.elements.dev/conflict",
        "title": "Conflict",
        "status": 409,
        "detail": "That handle is already taken.",
        "code": "conflict",
        "request_id": "req-1",
    }


def test_internal_errors_say_nothing_but_the_request_id() -> None:
    body = problem(InternalError("psycopg.OperationalError: connection to 10.0.0.1 failed"), "req-2")
    assert "psycopg" not in body["detail"]
    assert body["request_id"] == "req-2"
    assert body["code"] == "internal_error"


def test_field_errors_keep_location_message_and_type_but_never_the_input() -> None:
    errors = field_errors([{"loc": ("body", "password"), "msg": "too short", "type": "string_too_short", "input": "x"}])
    assert errors == [{"loc": ["body", "password"], "msg": "too short", "type": "string_too_short"}]
    assert "errors" in problem(InvalidRequest("bad", errors=errors), "r")


def test_rate_limited_carries_retry_after_of_at_least_one_second() -> None:
    assert RateLimited(retry_after=0).headers == {"Retry-After": "1"}
    assert RateLimited(retry_after=42).headers == {"Retry-After": "42"}


def test_every_contract_code_maps_back_to_its_class() -> None:
    for code, cls in ERRORS_BY_CODE.items():
        assert cls.code == code
    assert {"invalid_request", "unauthorized", "forbidden", "not_found", "conflict", "operation_failed"} <= set(
        ERRORS_BY_CODE
    )
