"""The contract's transport conventions, black-box over HTTP: errors, request ids, auth, tokens,
Idempotency-Key, X-Write-Version / X-Min-Version and pagination parameters."""

from __future__ import annotations

import base64
import json
import time
import uuid

import httpx
import jwt

from shared import write_versions
from shared.auth.tokens import issue_access_token
from shared.contracts.changes import AggregateVersion
from tests.e2e.contract_support import (
    admin_headers,
    assert_problem,
    assert_written,
    key,
    login,
    new_asset,
    register,
    settled,
    unique_handle,
)


def b64(value: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def test_health_and_openapi_are_public_and_every_answer_carries_a_request_id(client: httpx.Client) -> None:
    health = client.get("/v1/health")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert health.headers["X-Request-Id"]
    document = client.get("/v1/openapi.json")
    assert document.status_code == 200
    assert document.json()["openapi"].startswith("3.1")
    schemes = document.json()["components"]["securitySchemes"].values()
    assert any(s.get("scheme") == "bearer" for s in schemes)
    echoed = client.get("/v1/health", headers={"X-Request-Id": "trace-abc_123"})
    assert echoed.headers["X-Request-Id"] == "trace-abc_123"
    replaced = client.get("/v1/health", headers={"X-Request-Id": "bad id with spaces " * 20 + "end"})
    assert replaced.headers["X-Request-Id"]
    assert " " not in replaced.headers["X-Request-Id"]


def test_an_unknown_route_or_method_is_endpoint_not_found_as_a_problem(client: httpx.Client) -> None:
    for method, path in (("GET", "/v1/nothing-here"), ("DELETE", "/v1/assets"), ("POST", "/v1/health")):
        assert_problem(client.request(method, path), 404, "endpoint_not_found")


def test_missing_malformed_forged_expired_and_unsigned_tokens_are_401(client: httpx.Client) -> None:
    actor = register(client)
    token = actor.headers["Authorization"].removeprefix("Bearer ")
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    expired = issue_access_token(uuid.UUID(actor.id), "real", [], now=int(time.time()) - 7200)[0]
    bad = [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer not.a.jwt"},
        {"Authorization": f"Basic {token}"},
        {"Authorization": f"Bearer {header}.{b64({**claims, 'roles': ['admin']})}.{signature}"},
        {"Authorization": f"Bearer {b64({'alg': 'none', 'typ': 'JWT'})}.{payload}."},
        {"Authorization": f"Bearer {expired}"},
    ]
    for headers in bad:
        assert_problem(client.get("/v1/entities/me", headers=headers), 401, "unauthorized")
        assert_problem(
            client.post("/v1/graphql", json={"query": "{ me { id } }"}, headers=headers), 401, "unauthorized"
        )
    assert client.get("/v1/entities/me", headers=actor.headers).status_code == 200


def test_access_tokens_are_asymmetric_jwts_with_the_contract_claims_and_a_published_kid(client: httpx.Client) -> None:
    handle = unique_handle()
    created = client.post(
        "/v1/entities", json={"kind": "legal", "handle": handle, "display_name": "Co", "password": "p" * 14}
    )
    pair = login(client, handle, "p" * 14)
    assert pair["token_type"] == "Bearer"
    assert isinstance(pair["expires_in"], int)
    assert pair["refresh_token"]
    header = jwt.get_unverified_header(pair["access_token"])
    claims = jwt.decode(pair["access_token"], options={"verify_signature": False})
    assert header["alg"] in {"RS256", "ES256", "EdDSA"}
    assert {"iss", "aud", "sub", "kind", "roles", "iat", "exp", "jti"} <= set(claims)
    assert (claims["sub"], claims["kind"], claims["roles"]) == (created.json()["id"], "legal", [])
    assert claims["exp"] - claims["iat"] == pair["expires_in"]
    keys = client.get("/.well-known/jwks.json").json()["keys"]
    assert all({"kid", "kty", "alg", "use"} <= set(k) for k in keys)
    assert header["kid"] in {k["kid"] for k in keys}


def test_malformed_json_wrong_shapes_and_unknown_fields_are_400_with_each_field_listed(client: httpx.Client) -> None:
    raw = {"Content-Type": "application/json"}
    assert_problem(client.post("/v1/entities", content=b'{"kind": "real",', headers=raw), 400, "invalid_request")
    assert_problem(client.post("/v1/entities", json=["kind", "real"]), 400, "invalid_request")
    assert_problem(client.post("/v1/entities", json="just a string"), 400, "invalid_request")
    problem = assert_problem(client.post("/v1/entities", json={"kind": "robot", "handle": "X"}), 400, "invalid_request")
    failing = {tuple(e["loc"][-1:]) for e in problem["errors"]}
    assert {("kind",), ("handle",), ("display_name",), ("password",)} <= failing


def test_a_valid_body_wrapped_in_a_json_array_is_400_and_changes_nothing(client: httpx.Client) -> None:
    alice, bob = register(client), register(client)
    handle = unique_handle()
    wrapped = [
        ("POST", "/v1/entities", {"kind": "real", "handle": handle, "display_name": "x", "password": "p" * 14}, {}),
        ("POST", "/v1/auth/token", {"login": alice.handle, "password": "contract-password-1"}, {}),
        ("PATCH", "/v1/entities/me", {"display_name": "Wrapped"}, alice.headers),
        ("POST", "/v1/groups", {"name": "Wrapped"}, alice.headers),
        ("POST", "/v1/messages", {"to_entity": bob.id, "body": "wrapped"}, alice.headers),
        ("POST", "/v1/transfers", {"to": bob.id, "asset": "NOPE", "amount": 1}, {**alice.headers, **key()}),
    ]
    for method, path, body, headers in wrapped:
        answer = client.request(method, path, json=[body], headers=headers)
        assert_problem(answer, 400, "invalid_request")
    registered = client.post(
        "/v1/entities", json={"kind": "real", "handle": handle, "display_name": "x", "password": "p" * 14}
    )
    assert_written(registered, 201)  # the wrapped registration did not take the handle
    me = client.get("/v1/entities/me", headers=alice.headers).json()
    assert me["display_name"] == "Contract"
    assert client.get("/v1/messages/inbox", headers=bob.headers).json()["items"] == []


def test_bodies_that_break_a_json_parser_are_400_not_500_on_rest_and_graphql(client: httpx.Client) -> None:
    actor = register(client)
    raw = {**actor.headers, "Content-Type": "application/json"}
    nasty = [
        b"[" * 20000 + b"]" * 20000,
        b'{"a":' * 10000 + b"1" + b"}" * 10000,
        b'{"name": "\xff\xfe broken utf-8"}',
        b'{"to": "' + actor.id.encode() + b'", "asset": "X", "amount": ' + b"9" * 5000 + b"}",
    ]
    for body in nasty:
        for path in ("/v1/groups", "/v1/transfers", "/v1/graphql"):
            answer = client.post(path, content=body, headers={**raw, **key()})
            assert answer.status_code == 400, (path, body[:20], answer.text)
            assert answer.headers["X-Request-Id"]
    unknown_operation = {"query": "query Mine { me { id } }", "operationName": "Theirs"}
    answer = client.post("/v1/graphql", json=unknown_operation, headers=actor.headers)
    assert answer.status_code == 400
    assert [e["extensions"]["code"] for e in answer.json()["errors"]] == ["invalid_request"]


def test_an_idempotency_key_is_1_to_128_printable_ascii_and_space_is_printable(client: httpx.Client) -> None:
    admin = admin_headers(client)
    code = new_asset(client, admin)
    alice = register(client)
    issue = {"to": alice.id, "amount": 5}
    for bad in ("x" * 129, ""):
        answer = client.post(f"/v1/assets/{code}/issue", json=issue, headers={**admin, "Idempotency-Key": bad})
        assert_problem(answer, 400, "invalid_request")
    answer = client.post(f"/v1/assets/{code}/issue", json=issue, headers={**admin, "Idempotency-Key": "é".encode()})
    assert_problem(answer, 400, "invalid_request")
    spaced = {**admin, "Idempotency-Key": f"monthly payout {uuid.uuid4().hex[:8]}"}
    first = client.post(f"/v1/assets/{code}/issue", json=issue, headers=spaced)
    assert_written(first, 201)
    again = client.post(f"/v1/assets/{code}/issue", json=issue, headers=spaced)
    assert (again.status_code, again.json()) == (201, first.json())
    longest = {**admin, "Idempotency-Key": "k" * 127 + "!"}
    last = client.post(f"/v1/assets/{code}/issue", json=issue, headers=longest)
    assert_written(last, 201)
    settled(client, admin, last)
    wallet = client.get("/v1/wallets/me", headers=alice.headers)
    assert wallet.json()["balances"] == [{"asset": code, "amount": 10, "held": 0, "available": 10, "scale": 2}]


def test_x_min_version_must_be_ours_and_a_read_side_that_never_gets_there_is_503_not_ready(
    client: httpx.Client,
) -> None:
    actor = register(client)
    garbage = client.get("/v1/entities/me", headers={**actor.headers, "X-Min-Version": "not-a-token"})
    assert_problem(garbage, 400, "invalid_request")
    never = write_versions.issue([AggregateVersion(aggregate=f"entity#{actor.id}", version=10**9)], actor.id)
    assert_problem(client.get("/v1/entities/me", headers={**actor.headers, "X-Min-Version": never}), 503, "not_ready")


def test_list_parameters_outside_1_to_100_or_a_foreign_cursor_are_400(client: httpx.Client) -> None:
    actor = register(client)
    lists = ["/v1/assets", "/v1/wallets/me/transfers", "/v1/messages/inbox", "/v1/groups", "/v1/entities/me/groups"]
    for path in lists:
        for limit in ("0", "101", "-1", "1.5", "ten", "99999999999999999999999"):
            answer = client.get(path, params={"limit": limit}, headers=actor.headers)
            assert_problem(answer, 400, "invalid_request")
        for cursor in ("garbage!", b64({"pk": "x"}), "x" * 3000):
            assert_problem(client.get(path, params={"cursor": cursor}, headers=actor.headers), 400, "invalid_request")
        page = client.get(path, params={"limit": 100}, headers=actor.headers)
        assert page.status_code == 200
        assert set(page.json()) == {"items", "next_cursor"}
