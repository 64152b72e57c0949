"""The spine over HTTP against the local stack: health, self-description, one write read back."""

from __future__ import annotations

import uuid

import httpx

PASSWORD = "a long enough password"


def register(client: httpx.Client, handle: str | None = None) -> httpx.Response:
    body = {
        "kind": "real",
        "handle": handle or f"e2e_{uuid.uuid4().hex[:10]}",
        "display_name": "E2E User",
        "password": PASSWORD,
    }
    return client.post("/v1/entities", json=body)


def test_health_is_public_and_ok(client: httpx.Client) -> None:
    answer = client.get("/v1/health")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}
    assert answer.headers["X-Request-Id"]


def test_a_valid_incoming_request_id_is_echoed(client: httpx.Client) -> None:
    assert client.get("/v1/health", headers={"X-Request-Id": "trace-123"}).headers["X-Request-Id"] == "trace-123"
    echoed = client.get("/v1/health", headers={"X-Request-Id": "bad id with spaces"}).headers["X-Request-Id"]
    assert echoed != "bad id with spaces"


def test_openapi_document_describes_the_routes(client: httpx.Client) -> None:
    document = client.get("/v1/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    assert "/v1/entities" in document["paths"]
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert document["paths"]["/v1/health"]["get"]["security"] == []


def test_a_registered_entity_is_readable_with_its_write_version(client: httpx.Client) -> None:
    created = register(client)
    assert created.status_code == 201, created.text
    entity = created.json()
    version = created.headers["X-Write-Version"]
    pair = client.post("/v1/auth/token", json={"login": entity["handle"], "password": PASSWORD}).json()
    headers = {"Authorization": f"Bearer {pair['access_token']}", "X-Min-Version": version}
    answer = client.get(f"/v1/entities/{entity['id']}", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {k: entity[k] for k in ("id", "kind", "handle", "display_name", "created_at")}


def test_an_unknown_route_is_endpoint_not_found(client: httpx.Client) -> None:
    answer = client.delete("/v1/nothing/here")
    assert answer.status_code == 404
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    assert answer.json()["code"] == "endpoint_not_found"


def test_protected_routes_answer_401_without_a_valid_token(client: httpx.Client) -> None:
    some_id = str(uuid.uuid4())
    for headers in ({}, {"Authorization": "Bearer not-a-jwt"}, {"Authorization": "Basic abc"}):
        answer = client.get(f"/v1/entities/{some_id}", headers=headers)
        assert answer.status_code == 401
        assert answer.json()["code"] == "unauthorized"


def test_malformed_registration_is_400_and_writes_nothing(client: httpx.Client) -> None:
    answer = client.post("/v1/entities", content=b"{not json")
    assert answer.status_code == 400
    problem = answer.json()
    assert problem["code"] == "invalid_request"
    assert problem["request_id"] == answer.headers["X-Request-Id"]
    assert client.post("/v1/entities", json={"kind": "robot"}).status_code == 400


def test_a_taken_handle_is_409(client: httpx.Client) -> None:
    handle = f"dup_{uuid.uuid4().hex[:8]}"
    assert register(client, handle).status_code == 201
    answer = register(client, handle)
    assert answer.status_code == 409
    assert answer.json()["code"] == "conflict"
