"""Oxygen over HTTP against the local stack: login, refresh, throttling, deactivation, roles."""

from __future__ import annotations

import time
import uuid

import httpx
import jwt

from tests.e2e.conftest import REFRESH_GRACE_SECONDS

PASSWORD = "an e2e password, long enough"


def new_entity(client: httpx.Client) -> dict[str, str]:
    handle = f"e2e_{uuid.uuid4().hex[:10]}"
    body = {"kind": "real", "handle": handle, "display_name": "E2E", "password": PASSWORD}
    created = client.post("/v1/entities", json=body)
    assert created.status_code == 201, created.text
    return created.json()  # type: ignore[no-any-return]


def tokens(client: httpx.Client, login: str, password: str = PASSWORD) -> dict[str, str]:
    answer = client.post("/v1/auth/token", json={"login": login, "password": password})
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def auth(pair: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {pair['access_token']}"}


def test_login_me_refresh_reuse_and_logout_over_http(client: httpx.Client) -> None:
    # Given a registered entity that logs in
    entity = new_entity(client)
    pair = tokens(client, entity["handle"])
    assert pair["token_type"] == "Bearer"
    # Then its access token reads its own entity and is signed by a published key
    me = client.get("/v1/entities/me", headers=auth(pair))
    assert me.status_code == 200, me.text
    assert me.json()["id"] == entity["id"]
    kids = {k["kid"] for k in client.get("/.well-known/jwks.json").json()["keys"]}
    assert jwt.get_unverified_header(pair["access_token"])["kid"] in kids
    # When it refreshes, the old refresh token is spent; using it again kills the session
    fresh = client.post("/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert fresh.status_code == 200
    time.sleep(REFRESH_GRACE_SECONDS + 0.5)  # past the grace a spent token is a stolen copy
    assert client.post("/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}).status_code == 401
    assert client.post("/v1/auth/refresh", json={"refresh_token": fresh.json()["refresh_token"]}).status_code == 401
    # And the revoked session's access tokens are refused on the next request
    assert client.get("/v1/entities/me", headers=auth(fresh.json())).status_code == 401
    # And logout of a new session answers 204 and ends it
    other = tokens(client, entity["handle"])
    out = client.post("/v1/auth/logout", json={"refresh_token": other["refresh_token"]}, headers=auth(other))
    assert out.status_code == 204
    assert client.post("/v1/auth/refresh", json={"refresh_token": other["refresh_token"]}).status_code == 401


def test_wrong_passwords_are_401_then_429_with_retry_after(client: httpx.Client) -> None:
    entity = new_entity(client)
    for _ in range(5):
        wrong = client.post("/v1/auth/token", json={"login": entity["handle"], "password": "wrong password"})
        assert wrong.status_code == 401
        assert wrong.json()["code"] == "unauthorized"
    throttled = client.post("/v1/auth/token", json={"login": entity["handle"], "password": PASSWORD})
    assert throttled.status_code == 429
    assert throttled.json()["code"] == "rate_limited"
    assert 0 < int(throttled.headers["Retry-After"]) <= 15 * 60


def test_patch_then_deactivate_stops_the_token_on_the_next_request(client: httpx.Client) -> None:
    entity = new_entity(client)
    pair = tokens(client, entity["handle"])
    patched = client.patch("/v1/entities/me", json={"display_name": "Renamed"}, headers=auth(pair))
    assert patched.status_code == 200
    assert patched.json()["display_name"] == "Renamed"
    # When it deactivates itself
    gone = client.delete("/v1/entities/me", headers=auth(pair))
    assert gone.status_code == 204
    # Then the very next request with its token is refused, and its handle stays reserved
    assert client.get("/v1/entities/me", headers=auth(pair)).status_code == 401
    again = client.post(
        "/v1/entities", json={"kind": "real", "handle": entity["handle"], "display_name": "X", "password": PASSWORD}
    )
    assert again.status_code == 409
    assert client.post("/v1/auth/token", json={"login": entity["handle"], "password": PASSWORD}).status_code == 401


def test_only_the_platform_admin_grants_roles(client: httpx.Client) -> None:
    entity = new_entity(client)
    admin = tokens(client, "root_admin", "root-admin-password")
    outsider = tokens(client, entity["handle"])
    refused = client.put(f"/v1/entities/{entity['id']}/roles", json={"roles": ["issuer"]}, headers=auth(outsider))
    assert refused.status_code == 403
    granted = client.put(f"/v1/entities/{entity['id']}/roles", json={"roles": ["issuer"]}, headers=auth(admin))
    assert granted.status_code == 200, granted.text
    assert granted.json()["roles"] == ["issuer"]
    unknown = client.put(f"/v1/entities/{entity['id']}/roles", json={"roles": ["wizard"]}, headers=auth(admin))
    assert unknown.status_code == 400
    assert client.put(f"/v1/entities/{entity['id']}/roles", json={"roles": []}).status_code == 401
