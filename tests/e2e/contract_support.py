"""Helpers for the contract conformance tests: real registration and login over HTTP, and checks
of the contract's shapes (problem details, pages, write versions)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from tests.support.polling import wait_until

PASSWORD = "contract-password-1"
ADMIN = {"login": "root_admin", "password": "root-admin-password"}
T = TypeVar("T")


@dataclass(frozen=True)
class Actor:
    id: str
    handle: str
    headers: dict[str, str]
    refresh_token: str


def unique_handle(prefix: str = "c") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def login(client: httpx.Client, login_name: str, password: str = PASSWORD) -> dict[str, Any]:
    answer = client.post("/v1/auth/token", json={"login": login_name, "password": password})
    assert answer.status_code == 200, answer.text
    pair: dict[str, Any] = answer.json()
    return pair


def register(client: httpx.Client, **overrides: Any) -> Actor:
    body = {"kind": "real", "handle": unique_handle(), "display_name": "Contract", "password": PASSWORD, **overrides}
    created = client.post("/v1/entities", json=body)
    assert created.status_code == 201, created.text
    pair = login(client, body["handle"], body["password"])
    headers = {"Authorization": f"Bearer {pair['access_token']}"}
    return Actor(created.json()["id"], body["handle"], headers, pair["refresh_token"])


def entity(client: httpx.Client) -> tuple[str, dict[str, str]]:
    """A registered entity, logged in for real: its id and its bearer headers."""
    actor = register(client)
    return actor.id, actor.headers


def admin_headers(client: httpx.Client) -> dict[str, str]:
    pair = login(client, ADMIN["login"], ADMIN["password"])
    return {"Authorization": f"Bearer {pair['access_token']}"}


def new_asset(client: httpx.Client, admin: dict[str, str], scale: int = 2) -> str:
    code = f"CT{uuid.uuid4().hex[:8].upper()}"
    created = client.post("/v1/assets", json={"code": code, "name": "Contract coin", "scale": scale}, headers=admin)
    assert created.status_code == 201, created.text
    return code


def key() -> dict[str, str]:
    return {"Idempotency-Key": f"ct-{uuid.uuid4()}"}


def fresh(headers: dict[str, str], write: httpx.Response) -> dict[str, str]:
    """Headers for a read that must reflect ``write`` (the contract's read-your-writes)."""
    return {**headers, "X-Min-Version": write.headers["X-Write-Version"]}


def assert_problem(answer: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """An RFC 9457 problem with the contract's fields; 400s list the failing fields."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = answer.json()
    assert body["code"] == code
    assert body["status"] == status
    assert isinstance(body["type"], str)
    assert isinstance(body["title"], str)
    assert isinstance(body["detail"], str)
    assert body["request_id"] == answer.headers["X-Request-Id"]
    if status == 400:
        assert body["errors"]
        assert all({"loc", "msg", "type"} <= set(e) for e in body["errors"])
    return body


def assert_written(answer: httpx.Response, status: int) -> None:
    """A successful write: the expected status and a non-empty X-Write-Version."""
    assert answer.status_code == status, answer.text
    assert answer.headers.get("X-Write-Version"), f"no X-Write-Version on {answer.request.url.path}"


def inbox(client: httpx.Client, actor: Actor, **params: Any) -> list[dict[str, Any]]:
    answer = client.get("/v1/messages/inbox", params=params, headers=actor.headers)
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def inbox_with(client: httpx.Client, actor: Actor, text: str) -> list[dict[str, Any]]:
    """The inbox once a message containing ``text`` has arrived (bounded wait)."""
    return wait_until(
        lambda: inbox(client, actor), lambda items: any(text in m["body"] for m in items), f"a message with {text!r}"
    )


def settled(client: httpx.Client, writer: dict[str, str], write: httpx.Response) -> None:
    """Wait until the read side reflects ``write``, as its writer reads it back (a write version
    token works only for the caller it was issued to); other callers' reads made after this see it
    too (one read cache)."""
    answer = client.get("/v1/entities/me", headers=fresh(writer, write))
    assert answer.status_code == 200, answer.text
