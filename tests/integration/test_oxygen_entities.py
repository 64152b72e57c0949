"""Oxygen's entity routes against the real handlers: register, change, deactivate, roles."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from shared.context import Caller
from tests.integration.oxygen_support import PASSWORD, authorize, caller_of, francium, login, oxygen, register
from tests.support.events import response_header, response_json
from tests.support.streams import StreamDriver

NEW_PASSWORD = "an entirely new passphrase"


@pytest.fixture
def await_read_side(stack: StreamDriver, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Stand in for the stream mapping while DELETE waits: drain the feed, then really wait for the version."""
    from shared.readcache import wait_for_token

    waited: list[str] = []

    def drain_then_wait(version: str) -> None:
        waited.append(version)
        stack.drain()
        wait_for_token(version, timeout=1)

    monkeypatch.setattr("oxygen.logic.await_read_side", drain_then_wait)
    return waited


@pytest.fixture(autouse=True)
def logins_reach_the_read_side(stack: StreamDriver, monkeypatch: pytest.MonkeyPatch) -> None:
    """Stand in for the stream mapping while a login waits for the read side to know its session."""
    monkeypatch.setattr("oxygen.sessions.await_read_side", lambda version, what: stack.drain())


def admin_caller() -> Caller:
    """A platform admin (made by the bootstrap command) in a live login session."""
    from tests.support.factories import admin_actor

    admin = admin_actor()
    return Caller(entity_id=admin.entity_id, kind="real", roles=frozenset({"admin"}), session_id=admin.session_id)


# Registration ---------------------------------------------------------------------------------


def test_registration_returns_the_entity_without_credentials(stack: StreamDriver) -> None:
    response = oxygen(
        "POST",
        "/v1/entities",
        body={
            "kind": "legal",
            "handle": "acme_corp",
            "display_name": " Acme ",
            "email": "Ops@Acme.example",
            "password": PASSWORD,
        },
    )
    assert response["statusCode"] == 201
    body = response_json(response)
    assert set(body) == {"id", "kind", "handle", "display_name", "email", "roles", "status", "created_at"}
    assert body["kind"] == "legal"
    assert body["display_name"] == "Acme"
    assert body["email"] == "ops@acme.example"
    assert body["roles"] == []
    assert body["status"] == "active"
    assert response_header(response, "X-Write-Version")


@pytest.mark.parametrize(
    ("field", "first", "second"),
    [
        ("handle", {"handle": "same_handle"}, {"handle": "same_handle"}),
        ("email", {"email": "a@b.example"}, {"email": "A@B.example"}),
    ],
)
def test_a_taken_handle_or_email_is_409_naming_only_that_field(
    stack: StreamDriver, field: str, first: dict[str, str], second: dict[str, str]
) -> None:
    register(stack, **first)
    response = oxygen(
        "POST",
        "/v1/entities",
        body={
            "kind": "real",
            "handle": f"h_{uuid.uuid4().hex[:8]}",
            "display_name": "X",
            "password": PASSWORD,
            **second,
        },
    )
    assert response["statusCode"] == 409
    problem = response_json(response)
    assert problem["code"] == "conflict"
    assert [e["loc"] for e in problem["errors"]] == [["body", field]]


@pytest.mark.parametrize(
    "change",
    [
        {"kind": "robot"},
        {"handle": "No"},
        {"handle": "UPPER"},
        {"handle": "a" * 33},
        {"display_name": ""},
        {"display_name": "   "},
        {"display_name": "x" * 101},
        {"email": "not-an-email"},
        {"password": "short"},
        {"password": "x" * 129},
        {"roles": ["admin"]},
        {"handle": None},
    ],
)
def test_registration_validates_every_field(stack: StreamDriver, change: dict[str, object]) -> None:
    body = {"kind": "real", "handle": "valid_handle", "display_name": "Valid", "password": PASSWORD, **change}
    response = oxygen("POST", "/v1/entities", body=body)
    assert response["statusCode"] == 400
    assert response_json(response)["errors"]


def test_an_oversized_body_is_refused_without_a_500(stack: StreamDriver) -> None:
    response = oxygen("POST", "/v1/entities", body={"display_name": "x" * (1024 * 1024)})
    assert response["statusCode"] == 413
    assert response_json(response)["code"] == "payload_too_large"


# PATCH /v1/entities/me ------------------------------------------------------------------------


def test_changing_the_display_name_needs_no_password_and_reaches_the_read_side(stack: StreamDriver) -> None:
    entity = register(stack)
    response = oxygen("PATCH", "/v1/entities/me", caller=caller_of(entity), body={"display_name": "New Name"})
    assert response["statusCode"] == 200
    assert response_json(response)["display_name"] == "New Name"
    stack.drain()
    me = francium(
        "GET",
        "/v1/entities/me",
        caller=caller_of(entity),
        headers={"X-Min-Version": response_header(response, "X-Write-Version") or ""},
    )
    assert response_json(me)["display_name"] == "New Name"


def test_changing_the_password_with_the_current_one_switches_the_login(stack: StreamDriver) -> None:
    entity = register(stack)
    response = oxygen(
        "PATCH",
        "/v1/entities/me",
        caller=caller_of(entity),
        body={"password": NEW_PASSWORD, "current_password": PASSWORD},
    )
    assert response["statusCode"] == 200
    assert login(entity.handle, PASSWORD)["statusCode"] == 401
    assert login(entity.handle, NEW_PASSWORD)["statusCode"] == 200


def test_changing_the_email_lowercases_it_and_allows_login_by_it(stack: StreamDriver) -> None:
    entity = register(stack)
    response = oxygen(
        "PATCH",
        "/v1/entities/me",
        caller=caller_of(entity),
        body={"email": "New@Mail.example", "current_password": PASSWORD},
    )
    assert response["statusCode"] == 200
    assert response_json(response)["email"] == "new@mail.example"
    assert login("new@mail.example")["statusCode"] == 200


@pytest.mark.parametrize("change", [{"password": NEW_PASSWORD}, {"email": "x@y.example"}])
def test_a_credential_change_without_current_password_is_400(stack: StreamDriver, change: dict[str, str]) -> None:
    entity = register(stack)
    response = oxygen("PATCH", "/v1/entities/me", caller=caller_of(entity), body=change)
    assert response["statusCode"] == 400
    assert response_json(response)["errors"][0]["loc"] == ["body", "current_password"]


def test_a_wrong_current_password_is_401_and_changes_nothing(stack: StreamDriver) -> None:
    entity = register(stack)
    response = oxygen(
        "PATCH",
        "/v1/entities/me",
        caller=caller_of(entity),
        body={"password": NEW_PASSWORD, "current_password": "not my password"},
    )
    assert response["statusCode"] == 401
    assert response_json(response)["code"] == "unauthorized"
    assert login(entity.handle, PASSWORD)["statusCode"] == 200


def test_an_email_taken_by_another_entity_is_409(stack: StreamDriver) -> None:
    register(stack, email="taken@mail.example")
    entity = register(stack)
    response = oxygen(
        "PATCH",
        "/v1/entities/me",
        caller=caller_of(entity),
        body={"email": "TAKEN@mail.example", "current_password": PASSWORD},
    )
    assert response["statusCode"] == 409
    assert [e["loc"] for e in response_json(response)["errors"]] == [["body", "email"]]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"current_password": PASSWORD},
        {"display_name": ""},
        {"display_name": None},
        {"email": "nope"},
        {"password": "short", "current_password": PASSWORD},
        {"handle": "new_handle"},
        {"roles": ["admin"]},
        "[]",
    ],
)
def test_an_empty_or_invalid_patch_is_400(stack: StreamDriver, body: object) -> None:
    entity = register(stack)
    response = oxygen("PATCH", "/v1/entities/me", caller=caller_of(entity), body=body)
    assert response["statusCode"] == 400
    assert response_json(response)["code"] == "invalid_request"


def test_patch_without_a_caller_is_401(stack: StreamDriver) -> None:
    assert oxygen("PATCH", "/v1/entities/me", body={"display_name": "X"})["statusCode"] == 401


# DELETE /v1/entities/me -----------------------------------------------------------------------


def test_deactivation_stops_tokens_on_the_next_request_and_keeps_the_handle(
    stack: StreamDriver, await_read_side: list[str]
) -> None:
    # Given an entity with a live session
    entity = register(stack)
    pair = response_json(login(entity.handle))
    assert authorize(pair["access_token"])
    # When it deactivates itself
    response = oxygen("DELETE", "/v1/entities/me", caller=caller_of(entity))
    # Then 204, answered only after the read side reflected the write
    assert response["statusCode"] == 204
    assert not response.get("body")
    assert await_read_side == [response_header(response, "X-Write-Version")]
    # And its access token is refused, its refresh token dead, its profile gone, its handle reserved
    with pytest.raises(Exception, match="Unauthorized"):
        authorize(pair["access_token"])
    assert oxygen("POST", "/v1/auth/refresh", body={"refresh_token": pair["refresh_token"]})["statusCode"] == 401
    assert francium("GET", f"/v1/entities/{entity.id}")["statusCode"] == 404
    assert response_json(francium("GET", "/v1/entities", query={"handle": entity.handle}))["items"] == []
    again = oxygen(
        "POST",
        "/v1/entities",
        body={"kind": "real", "handle": entity.handle, "display_name": "Impostor", "password": PASSWORD},
    )
    assert again["statusCode"] == 409


def test_a_deactivated_caller_is_refused_by_the_write_side_even_if_the_authorizer_let_it_through(
    stack: StreamDriver, await_read_side: list[str]
) -> None:
    # Given an entity that deactivated itself
    entity = register(stack)
    caller = caller_of(entity)
    assert oxygen("DELETE", "/v1/entities/me", caller=caller)["statusCode"] == 204
    # When the same caller (as a stale authorizer answer would pass it) writes again, Then 401
    again = oxygen("DELETE", "/v1/entities/me", caller=caller)
    assert (again["statusCode"], response_json(again)["code"]) == (401, "unauthorized")


def test_deactivation_answers_503_when_the_read_side_lags(stack: StreamDriver, monkeypatch: pytest.MonkeyPatch) -> None:
    from shared.readcache import wait_for_token

    monkeypatch.setattr("oxygen.logic.await_read_side", lambda version: wait_for_token(version, timeout=0.05))
    entity = register(stack)
    response = oxygen("DELETE", "/v1/entities/me", caller=caller_of(entity))
    assert response["statusCode"] == 503
    assert response_json(response)["code"] == "not_ready"


# PUT /v1/entities/{id}/roles ------------------------------------------------------------------


def test_an_admin_sets_roles_and_the_next_login_carries_them(stack: StreamDriver) -> None:
    entity = register(stack)
    response = oxygen(
        "PUT", f"/v1/entities/{entity.id}/roles", caller=admin_caller(), body={"roles": ["issuer", "admin", "issuer"]}
    )
    assert response["statusCode"] == 200
    assert response_json(response)["roles"] == ["admin", "issuer"]
    from shared.auth.tokens import verify_access_token

    token = response_json(login(entity.handle))["access_token"]
    assert sorted(verify_access_token(token).roles) == ["admin", "issuer"]
    cleared = oxygen("PUT", f"/v1/entities/{entity.id}/roles", caller=admin_caller(), body={"roles": []})
    assert response_json(cleared)["roles"] == []


def test_only_a_platform_admin_may_set_roles(stack: StreamDriver) -> None:
    entity = register(stack)
    moderator = Caller(entity_id=entity.id, kind="real", roles=frozenset({"moderator"}))
    response = oxygen("PUT", f"/v1/entities/{entity.id}/roles", caller=moderator, body={"roles": ["admin"]})
    assert response["statusCode"] == 403
    assert response_json(response)["code"] == "forbidden"
    assert oxygen("PUT", f"/v1/entities/{entity.id}/roles", body={"roles": []})["statusCode"] == 401


@pytest.mark.parametrize("target", [str(uuid.uuid4()), "not-a-uuid"])
def test_roles_of_an_unknown_entity_is_404(stack: StreamDriver, target: str) -> None:
    response = oxygen("PUT", f"/v1/entities/{target}/roles", caller=admin_caller(), body={"roles": ["issuer"]})
    assert response["statusCode"] == 404
    assert response_json(response)["code"] == "not_found"


@pytest.mark.parametrize("body", [{"roles": ["superuser"]}, {"roles": "admin"}, {}, {"roles": [1]}])
def test_an_unknown_role_or_bad_body_is_400(stack: StreamDriver, body: object) -> None:
    entity = register(stack)
    response = oxygen("PUT", f"/v1/entities/{entity.id}/roles", caller=admin_caller(), body=body)
    assert response["statusCode"] == 400


def test_the_documented_role_enum_is_the_platform_role_set() -> None:
    from typing import get_args

    from infra.openapi import document
    from shared.access import PLATFORM_ROLES
    from shared.contracts.oxygen import PlatformRole

    assert set(get_args(PlatformRole)) == PLATFORM_ROLES
    schema = document()["components"]["schemas"]["RolesBody"]["properties"]["roles"]
    assert set(schema["items"]["enum"]) == PLATFORM_ROLES


def test_no_password_hash_reaches_the_change_feed_or_the_read_cache(stack: StreamDriver, postgres: str) -> None:
    entity = register(stack)
    login(entity.handle)
    oxygen(
        "PATCH",
        "/v1/entities/me",
        caller=caller_of(entity),
        body={"password": NEW_PASSWORD, "current_password": PASSWORD},
    )
    stack.drain()
    import boto3

    dynamodb = boto3.client("dynamodb")
    dumped = str(dynamodb.scan(TableName="ChangeFeedTable")["Items"]) + str(
        dynamodb.scan(TableName="ReadCacheTable")["Items"]
    )
    with psycopg.connect(postgres) as conn:
        payloads = str([r[0] for r in conn.execute("SELECT payload FROM outbox")])
    assert "argon2" not in dumped
    assert "password" not in dumped
    assert "argon2" not in payloads


def test_wrong_current_passwords_are_throttled_like_logins(stack: StreamDriver) -> None:
    # Given five wrong current_password attempts (someone holding a stolen access token)
    entity = register(stack)
    for _ in range(5):
        wrong = oxygen(
            "PATCH",
            "/v1/entities/me",
            caller=caller_of(entity),
            body={"password": NEW_PASSWORD, "current_password": "guess guess guess"},
        )
        assert wrong["statusCode"] == 401
    # When the right one is tried
    right = oxygen(
        "PATCH",
        "/v1/entities/me",
        caller=caller_of(entity),
        body={"password": NEW_PASSWORD, "current_password": PASSWORD},
    )
    # Then it is throttled, and the password did not change
    assert right["statusCode"] == 429
    assert response_header(right, "Retry-After")
    assert login(entity.handle, PASSWORD)["statusCode"] == 200
