"""Oxygen against the contract over HTTP: registration, login and its rate limit, refresh, logout,
profile changes, deactivation and platform roles."""

from __future__ import annotations

import time
import uuid

import httpx

from tests.e2e.conftest import REFRESH_GRACE_SECONDS
from tests.e2e.contract_support import (
    PASSWORD,
    admin_headers,
    assert_problem,
    assert_written,
    fresh,
    login,
    register,
    unique_handle,
)

PUBLIC_PROFILE = {"id", "kind", "handle", "display_name", "created_at"}


def test_registration_answers_the_entity_and_refuses_invalid_or_taken_handles_and_emails(client: httpx.Client) -> None:
    handle, email = unique_handle(), f"{uuid.uuid4().hex[:10]}@example.com"
    body = {"kind": "fictional", "handle": handle, "display_name": "Zoë ☃", "email": email, "password": PASSWORD}
    created = client.post("/v1/entities", json=body)
    assert_written(created, 201)
    entity = created.json()
    assert set(entity) >= {"id", "kind", "handle", "display_name", "email", "roles", "status", "created_at"}
    assert "password" not in created.text
    assert "hash" not in created.text
    assert (entity["kind"], entity["handle"], entity["display_name"], entity["email"]) == (
        "fictional",
        handle,
        "Zoë ☃",
        email,
    )
    assert (entity["roles"], entity["status"]) == ([], "active")
    uuid.UUID(entity["id"])
    assert entity["created_at"].endswith("Z") or entity["created_at"].endswith("+00:00")
    taken_handle = {**body, "email": f"{uuid.uuid4().hex[:10]}@example.com"}
    assert_problem(client.post("/v1/entities", json=taken_handle), 409, "conflict")
    assert_problem(client.post("/v1/entities", json={**body, "handle": unique_handle()}), 409, "conflict")
    invalid = [
        {"handle": "Upper_Case"},
        {"handle": "ab"},
        {"handle": "x" * 33},
        {"handle": 12345},
        {"display_name": ""},
        {"display_name": "   "},
        {"display_name": "x" * 101},
        {"password": "short"},
        {"password": "p" * 129},
        {"kind": "robot"},
        {"email": "not-an-email"},
        {"roles": ["admin"]},
    ]
    for change in invalid:
        answer = client.post("/v1/entities", json={**body, "handle": unique_handle(), "email": None, **change})
        assert_problem(answer, 400, "invalid_request")


def test_login_by_handle_or_email_and_wrong_credentials_are_one_indistinct_401(client: httpx.Client) -> None:
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    actor = register(client, email=email)
    assert login(client, email)["access_token"]
    unknown = client.post("/v1/auth/token", json={"login": unique_handle(), "password": PASSWORD})
    wrong = client.post("/v1/auth/token", json={"login": actor.handle, "password": "wrong-password-1"})
    assert (
        assert_problem(unknown, 401, "unauthorized")["detail"] == assert_problem(wrong, 401, "unauthorized")["detail"]
    )
    assert_problem(client.post("/v1/auth/token", json={"login": actor.handle}), 400, "invalid_request")


def test_after_five_failed_logins_the_login_is_429_with_retry_after_even_with_the_right_password(
    client: httpx.Client,
) -> None:
    actor = register(client)
    for _ in range(5):
        wrong = client.post("/v1/auth/token", json={"login": actor.handle, "password": "wrong-password-1"})
        assert_problem(wrong, 401, "unauthorized")
    limited = client.post("/v1/auth/token", json={"login": actor.handle, "password": PASSWORD})
    assert_problem(limited, 429, "rate_limited")
    assert int(limited.headers["Retry-After"]) > 0
    assert login(client, register(client).handle)["access_token"]  # other logins are not affected


def test_refresh_spends_the_old_token_and_reusing_it_revokes_the_whole_session(client: httpx.Client) -> None:
    actor = register(client)
    renewed = client.post("/v1/auth/refresh", json={"refresh_token": actor.refresh_token})
    assert renewed.status_code == 200, renewed.text
    pair = renewed.json()
    assert pair["refresh_token"] != actor.refresh_token
    assert pair["token_type"] == "Bearer"
    new_headers = {"Authorization": f"Bearer {pair['access_token']}"}
    assert client.get("/v1/entities/me", headers=new_headers).status_code == 200
    # Within the grace a second tab refreshing with the same token stays logged in, in the same session
    second_tab = client.post("/v1/auth/refresh", json={"refresh_token": actor.refresh_token})
    assert second_tab.status_code == 200, second_tab.text
    assert client.get("/v1/entities/me", headers=new_headers).status_code == 200
    # Past the grace, the spent token is a stolen copy: the whole session ends
    time.sleep(REFRESH_GRACE_SECONDS + 0.5)
    reused = client.post("/v1/auth/refresh", json={"refresh_token": actor.refresh_token})
    assert_problem(reused, 401, "unauthorized")
    assert_problem(client.post("/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}), 401, "unauthorized")
    assert_problem(client.get("/v1/entities/me", headers=new_headers), 401, "unauthorized")
    assert_problem(client.post("/v1/auth/refresh", json={"refresh_token": "made-up"}), 401, "unauthorized")
    assert_problem(client.post("/v1/auth/refresh", json={}), 400, "invalid_request")


def test_logout_needs_a_token_answers_204_with_a_write_version_and_ends_only_that_session(
    client: httpx.Client,
) -> None:
    actor = register(client)
    other = login(client, actor.handle)
    assert_problem(client.post("/v1/auth/logout", json={"refresh_token": actor.refresh_token}), 401, "unauthorized")
    ended = client.post("/v1/auth/logout", json={"refresh_token": actor.refresh_token}, headers=actor.headers)
    assert_written(ended, 204)
    assert_problem(client.post("/v1/auth/refresh", json={"refresh_token": actor.refresh_token}), 401, "unauthorized")
    assert client.post("/v1/auth/refresh", json={"refresh_token": other["refresh_token"]}).status_code == 200
    other_headers = {"Authorization": f"Bearer {other['access_token']}"}
    again = client.post("/v1/auth/logout", json={"refresh_token": actor.refresh_token}, headers=other_headers)
    assert_written(again, 204)  # logging out twice is harmless, and still a successful write


def test_profile_changes_need_the_current_password_for_email_and_password(client: httpx.Client) -> None:
    actor = register(client)
    renamed = client.patch("/v1/entities/me", json={"display_name": "Renamed"}, headers=actor.headers)
    assert_written(renamed, 200)
    assert renamed.json()["display_name"] == "Renamed"
    assert client.get("/v1/entities/me", headers=fresh(actor.headers, renamed)).json()["display_name"] == "Renamed"
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    assert_problem(
        client.patch("/v1/entities/me", json={"email": email}, headers=actor.headers), 400, "invalid_request"
    )
    wrong = {"email": email, "current_password": "not-the-password"}
    assert_problem(client.patch("/v1/entities/me", json=wrong, headers=actor.headers), 401, "unauthorized")
    for bad in ({}, {"display_name": "  "}, {"display_name": None}, {"handle": "new_handle"}, []):
        assert_problem(client.patch("/v1/entities/me", json=bad, headers=actor.headers), 400, "invalid_request")
    changed = client.patch(
        "/v1/entities/me",
        json={"email": email, "password": "a-new-password-2", "current_password": PASSWORD},
        headers=actor.headers,
    )
    assert_written(changed, 200)
    assert changed.json()["email"] == email
    assert login(client, email, "a-new-password-2")["access_token"]
    assert_problem(client.post("/v1/auth/token", json={"login": email, "password": PASSWORD}), 401, "unauthorized")


def test_profiles_show_only_public_fields_and_lookups_by_handle_are_a_list(client: httpx.Client) -> None:
    viewer = register(client)
    actor = register(client, email=f"{uuid.uuid4().hex[:10]}@example.com")
    profile = client.get(f"/v1/entities/{actor.id}", headers=viewer.headers)
    assert profile.status_code == 200
    assert set(profile.json()) == PUBLIC_PROFILE
    found = client.get("/v1/entities", params={"handle": actor.handle}, headers=viewer.headers)
    assert found.status_code == 200
    assert [p["id"] for p in found.json()["items"]] == [actor.id]
    assert set(found.json()["items"][0]) == PUBLIC_PROFILE
    missing = client.get("/v1/entities", params={"handle": unique_handle()}, headers=viewer.headers)
    assert missing.json()["items"] == []
    for unknown in (str(uuid.uuid4()), "not-a-uuid"):
        assert_problem(client.get(f"/v1/entities/{unknown}", headers=viewer.headers), 404, "not_found")
    assert_problem(client.get(f"/v1/entities/{actor.id}"), 401, "unauthorized")


def test_deactivation_stops_tokens_hides_the_profile_and_keeps_the_handle(client: httpx.Client) -> None:
    viewer = register(client)
    actor = register(client)
    gone = client.delete("/v1/entities/me", headers=actor.headers)
    assert_written(gone, 204)
    assert_problem(client.get("/v1/entities/me", headers=actor.headers), 401, "unauthorized")
    assert_problem(client.post("/v1/auth/refresh", json={"refresh_token": actor.refresh_token}), 401, "unauthorized")
    assert_problem(
        client.post("/v1/auth/token", json={"login": actor.handle, "password": PASSWORD}), 401, "unauthorized"
    )
    # A deactivation answers once the read side reflects it: everyone's next read sees it
    assert_problem(client.get(f"/v1/entities/{actor.id}", headers=viewer.headers), 404, "not_found")
    by_handle = client.get("/v1/entities", params={"handle": actor.handle}, headers=viewer.headers)
    assert by_handle.json()["items"] == []
    again = {"kind": "real", "handle": actor.handle, "display_name": "Again", "password": PASSWORD}
    assert_problem(client.post("/v1/entities", json=again), 409, "conflict")


def test_only_a_platform_admin_sets_roles_from_the_documented_set(client: httpx.Client) -> None:
    admin = admin_headers(client)
    actor = register(client)
    assert_problem(
        client.put(f"/v1/entities/{actor.id}/roles", json={"roles": ["admin"]}, headers=actor.headers), 403, "forbidden"
    )
    for bad in ({"roles": ["wizard"]}, {"roles": "admin"}, {}):
        assert_problem(client.put(f"/v1/entities/{actor.id}/roles", json=bad, headers=admin), 400, "invalid_request")
    assert_problem(
        client.put(f"/v1/entities/{uuid.uuid4()}/roles", json={"roles": []}, headers=admin), 404, "not_found"
    )
    granted = client.put(f"/v1/entities/{actor.id}/roles", json={"roles": ["admin"]}, headers=admin)
    assert_written(granted, 200)
    assert granted.json()["roles"] == ["admin"]
    assert granted.json()["id"] == actor.id
    promoted = {"Authorization": f"Bearer {login(client, actor.handle)['access_token']}"}
    code = f"CTR{uuid.uuid4().hex[:6].upper()}"
    created = client.post("/v1/assets", json={"code": code, "name": "Promoted", "scale": 0}, headers=promoted)
    assert_written(created, 201)


def test_a_role_change_applies_to_tokens_already_issued_without_a_new_login(client: httpx.Client) -> None:
    admin = admin_headers(client)
    actor = register(client)  # logged in before the grant: its token carries no roles
    asset = {"name": "Granted", "scale": 0}
    granted = client.put(f"/v1/entities/{actor.id}/roles", json={"roles": ["admin"]}, headers=admin)
    assert_written(granted, 200)
    created = client.post(
        "/v1/assets", json={**asset, "code": f"CTG{uuid.uuid4().hex[:6].upper()}"}, headers=actor.headers
    )
    assert_written(created, 201)
    revoked = client.put(f"/v1/entities/{actor.id}/roles", json={"roles": []}, headers=admin)
    assert_written(revoked, 200)
    refused = client.post(
        "/v1/assets", json={**asset, "code": f"CTG{uuid.uuid4().hex[:6].upper()}"}, headers=actor.headers
    )
    assert_problem(refused, 403, "forbidden")
