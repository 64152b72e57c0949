"""Safety from outside, as an attacker would try it: authorization never rests on the read cache's word.

The read cache is eventually consistent and can be lost, stale or wrong. These tests make it so on the
running stack (deleting or rewriting its items in DynamoDB, then putting them back, so the session's
final drift check still holds) and show that writes are decided on PostgreSQL's truth.
"""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlparse

import boto3
import httpx
import psycopg
import pytest

from tests.e2e.contract_support import (
    PASSWORD,
    Actor,
    admin_headers,
    assert_problem,
    assert_written,
    key,
    login,
    new_asset,
    register,
)

TABLE = "ReadCacheTable"


def read_cache(stores: dict[str, str]) -> Any:
    return boto3.client("dynamodb", endpoint_url=stores["dynamodb_endpoint"])  # the tests' region, as the stack's


@contextmanager
def altered(stores: dict[str, str], changes: dict[str, dict[str, Any] | None]) -> Iterator[None]:
    """The read cache's state items of these aggregates deleted (None) or rewritten (new data) for
    the duration; put back as they were afterwards."""
    client = read_cache(stores)
    saved = {}
    for aggregate, data in changes.items():
        key_ = {"pk": {"S": aggregate}, "sk": {"S": "state"}}
        saved[aggregate] = client.get_item(TableName=TABLE, Key=key_, ConsistentRead=True)["Item"]
        if data is None:
            client.delete_item(TableName=TABLE, Key=key_)
        else:
            client.put_item(TableName=TABLE, Item={**saved[aggregate], "data": {"S": json.dumps(data)}})
    try:
        yield
    finally:
        for item in saved.values():
            client.put_item(TableName=TABLE, Item=item)


def state_of(stores: dict[str, str], aggregate: str) -> dict[str, Any]:
    item = read_cache(stores).get_item(TableName=TABLE, Key={"pk": {"S": aggregate}, "sk": {"S": "state"}})["Item"]
    return json.loads(item["data"]["S"])  # type: ignore[no-any-return]


def session_of(actor: Actor) -> str:
    import jwt

    return str(jwt.decode(actor.headers["Authorization"].split()[1], options={"verify_signature": False})["sid"])


def count(stores: dict[str, str], query: str, *params: object) -> int:
    with psycopg.connect(stores["database_url"]) as conn:
        return int(conn.execute(query, params).fetchone()[0])  # type: ignore[index]


def refused(answer: httpx.Response) -> None:
    """Refused before anything was written: 401, or 503 not_ready for a token issued moments ago."""
    assert answer.status_code in (401, 503), answer.text
    assert answer.json()["code"] in ("unauthorized", "not_ready")


def test_with_their_read_cache_items_lost_old_tokens_of_the_deactivated_the_logged_out_and_the_demoted_are_refused(
    client: httpx.Client, stack_stores: dict[str, str]
) -> None:
    # Given a deactivated entity, a logged-out session and a demoted admin, each keeping its access token
    admin = admin_headers(client)
    gone, left, demoted = register(client), register(client), register(client)
    money = new_asset(client, admin, scale=0)
    for holder in (gone, left):  # each with a balance to pay from
        issued = client.post(
            f"/v1/assets/{money}/issue", json={"to": holder.id, "amount": 100}, headers={**admin, **key()}
        )
        assert_written(issued, 201)
    assert_written(client.delete("/v1/entities/me", headers=gone.headers), 204)
    assert_written(
        client.post("/v1/auth/logout", json={"refresh_token": left.refresh_token}, headers=left.headers), 204
    )
    assert_written(client.put(f"/v1/entities/{demoted.id}/roles", json={"roles": ["admin"]}, headers=admin), 200)
    promoted = login(client, demoted.handle)
    demoted_headers = {"Authorization": f"Bearer {promoted['access_token']}"}
    assert_written(client.put(f"/v1/entities/{demoted.id}/roles", json={"roles": []}, headers=admin), 200)
    code = f"SAFE{uuid.uuid4().hex[:6].upper()}"
    ghost = f"still here {uuid.uuid4()}"  # this test's own, on a stack other tests share
    # When the read cache loses their entities and sessions (a recreated table, a parked record)
    demoted_session = session_of(Actor(demoted.id, demoted.handle, demoted_headers, ""))
    lost: dict[str, dict[str, Any] | None] = {
        f"entity#{gone.id}": None,
        f"session#{session_of(gone)}": None,
        f"entity#{left.id}": None,
        f"session#{session_of(left)}": None,
        f"entity#{demoted.id}": None,
        f"session#{demoted_session}": None,
    }
    with altered(stack_stores, lost):
        attempts = [
            client.post("/v1/messages", json={"to_entity": left.id, "body": ghost}, headers=gone.headers),
            client.post("/v1/groups", json={"name": ghost}, headers=gone.headers),
            client.post("/v1/messages", json={"to_entity": gone.id, "body": ghost}, headers=left.headers),
            client.post("/v1/assets", json={"code": code, "name": "Mine", "scale": 0}, headers=demoted_headers),
            client.put(f"/v1/entities/{demoted.id}/roles", json={"roles": ["admin"]}, headers=demoted_headers),
            # Transfers and issues go through the one-statement posting, gated on PostgreSQL's rows
            client.post(
                "/v1/transfers", json={"to": left.id, "asset": money, "amount": 5}, headers={**gone.headers, **key()}
            ),
            client.post(
                "/v1/transfers", json={"to": gone.id, "asset": money, "amount": 5}, headers={**left.headers, **key()}
            ),
            client.post(
                f"/v1/assets/{money}/issue", json={"to": demoted.id, "amount": 5}, headers={**demoted_headers, **key()}
            ),
        ]
    # Then every write is refused, and nothing was written
    for answer in attempts:
        refused(answer)
    assert count(stack_stores, "SELECT count(*) FROM messages WHERE body = %s", ghost) == 0
    assert count(stack_stores, "SELECT count(*) FROM groups WHERE name = %s", ghost) == 0
    assert count(stack_stores, "SELECT count(*) FROM assets WHERE code = %s", code) == 0
    assert count(stack_stores, "SELECT count(*) FROM entities WHERE id = %s AND roles = '{}'", demoted.id) == 1
    assert count(stack_stores, "SELECT count(*) FROM transfers WHERE asset = %s", money) == 2  # the two issues


def test_a_read_cache_claiming_admin_for_a_plain_user_never_lets_an_admin_write_through(
    client: httpx.Client, stack_stores: dict[str, str]
) -> None:
    # Given a plain user whose entity the read cache wrongly says is an admin
    user = register(client)
    code = f"FAKE{uuid.uuid4().hex[:6].upper()}"
    corrupted = {**state_of(stack_stores, f"entity#{user.id}"), "roles": ["admin"]}
    with altered(stack_stores, {f"entity#{user.id}": corrupted}):
        # When it tries what only a platform admin may do (the authorizer passes the cache's roles on)
        attempts = [
            client.post("/v1/assets", json={"code": code, "name": "Free money", "scale": 0}, headers=user.headers),
            client.put(f"/v1/entities/{user.id}/roles", json={"roles": ["admin"]}, headers=user.headers),
            client.post("/v1/broadcasts", json={"body": "I am admin now"}, headers=user.headers),
        ]
    # Then the write side, deciding on PostgreSQL, refuses each with 403 and nothing changes
    for answer in attempts:
        assert_problem(answer, 403, "forbidden")
    assert count(stack_stores, "SELECT count(*) FROM assets WHERE code = %s", code) == 0
    assert count(stack_stores, "SELECT count(*) FROM messages WHERE body = 'I am admin now'") == 0


def test_an_issue_by_a_demoted_admin_is_refused_even_when_the_authorizer_passes_stale_roles(
    client: httpx.Client, stack_stores: dict[str, str]
) -> None:
    # Given an admin made an asset, then lost the role while the read cache still says admin
    admin = admin_headers(client)
    former = register(client)
    assert_written(client.put(f"/v1/entities/{former.id}/roles", json={"roles": ["admin"]}, headers=admin), 200)
    code = new_asset(client, admin, scale=0)
    stale = state_of(stack_stores, f"entity#{former.id}")
    assert_written(client.put(f"/v1/entities/{former.id}/roles", json={"roles": []}, headers=admin), 200)
    with altered(stack_stores, {f"entity#{former.id}": stale}):
        # When it issues a million units to itself
        issued = client.post(
            f"/v1/assets/{code}/issue", json={"to": former.id, "amount": 1_000_000}, headers={**former.headers, **key()}
        )
    # Then 403 and no value was created
    assert_problem(issued, 403, "forbidden")
    assert count(stack_stores, "SELECT count(*) FROM transfers WHERE asset = %s", code) == 0


def test_x_min_version_of_another_callers_wallet_or_a_forged_one_is_400_at_once(client: httpx.Client) -> None:
    # Given a write version token that Alice received for her transfer-related write
    alice, bob = register(client), register(client)
    renamed = client.patch("/v1/entities/me", json={"display_name": "Alice"}, headers=alice.headers)
    assert_written(renamed, 200)
    token = renamed.headers["X-Write-Version"]
    # When Bob presents it, or a token rewritten to name Alice's wallet, or garbage
    prefix, payload, mac = token.split(".")
    forged = f"{prefix}.{payload[:-2]}AA.{mac}"
    for presented in (token, forged, f"wallet#{alice.id}:COIN=1", "v1.x.y"):
        answer = client.get("/v1/wallets/me", headers={**bob.headers, "X-Min-Version": presented})
        # Then 400 invalid_request, and it reveals nothing of Alice
        assert_problem(answer, 400, "invalid_request")
    # While Alice's own read with it works
    assert client.get("/v1/entities/me", headers={**alice.headers, "X-Min-Version": token}).status_code == 200


def test_the_graphql_cost_bomb_is_400_before_any_read(client: httpx.Client) -> None:
    actor = register(client)
    members = "members(first: 100) { edges { node { entityId entity { id handle } } } }"
    bomb = "{" + " ".join(f"a{i}: myGroups(first: 100) {{ {members} }}" for i in range(20)) + "}"
    answer = client.post("/v1/graphql", json={"query": bomb}, headers=actor.headers)
    assert answer.status_code == 400
    assert [e["extensions"]["code"] for e in answer.json()["errors"]] == ["invalid_request"]
    wrong_type = {"query": "query($n: Int) { myGroups(first: $n) { id } }", "variables": {"n": "abc"}}
    assert client.post("/v1/graphql", json=wrong_type, headers=actor.headers).status_code == 400
    two = {"query": "query A { me { id } } query B { me { id } }"}
    assert client.post("/v1/graphql", json=two, headers=actor.headers).status_code == 400


def from_address(stack_url: str, address: str) -> httpx.Client:
    return httpx.Client(base_url=stack_url, transport=httpx.HTTPTransport(local_address=address), timeout=30)


def test_five_failures_from_one_address_throttle_it_while_another_address_still_logs_in(stack_url: str) -> None:
    # Given an entity, and five wrong passwords for it from 127.0.0.2
    with from_address(stack_url, "127.0.0.2") as attacker, from_address(stack_url, "127.0.0.3") as owner:
        victim = register(owner)
        for _ in range(5):
            assert_problem(
                attacker.post("/v1/auth/token", json={"login": victim.handle, "password": "guess guess guess"}),
                401,
                "unauthorized",
            )
        # When the right password is tried from both addresses
        there = attacker.post("/v1/auth/token", json={"login": victim.handle, "password": PASSWORD})
        elsewhere = owner.post("/v1/auth/token", json={"login": victim.handle, "password": PASSWORD})
    # Then 127.0.0.2 is throttled (with Retry-After), 127.0.0.3 logs in
    assert_problem(there, 429, "rate_limited")
    assert int(there.headers["Retry-After"]) > 0
    assert elsewhere.status_code == 200, elsewhere.text


def raw_request(stack_url: str, request: bytes) -> tuple[int, dict[str, str], dict[str, Any]]:
    """Send bytes as they are (what no HTTP client would), and read the answer."""
    parsed = urlparse(stack_url)
    with socket.create_connection((parsed.hostname, parsed.port), timeout=30) as conn:
        conn.sendall(request)
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, json.loads(body)


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /v1/health\xff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"GET /v1/health HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
        + b"a" * 100_000
        + b"\r\nConnection: close\r\n\r\n",
    ],
    ids=["raw byte in the path", "100 KB header"],
)
def test_a_request_the_http_server_cannot_read_is_answered_as_problem_json(
    stack_url: str, request_bytes: bytes
) -> None:
    status, headers, body = raw_request(stack_url, request_bytes)
    assert (status, headers["content-type"], body["code"]) == (400, "application/problem+json", "invalid_request")
    assert body["request_id"] == headers["x-request-id"]


def test_every_gateway_answer_is_problem_json(client: httpx.Client) -> None:
    actor = register(client)
    for method in ("TRACE", "PROPFIND", "CONNECT"):
        assert_problem(client.request(method, "/v1/health"), 404, "endpoint_not_found")
    assert_problem(client.get("/v1/%0A%0D/health"), 404, "endpoint_not_found")
    assert_problem(client.get("/v1/groups/%0A%0D", headers=actor.headers), 404, "endpoint_not_found")
    huge = {**actor.headers, "X-Padding": "p" * 100_000}
    assert_problem(client.get("/v1/entities/me", headers=huge), 400, "invalid_request")
    too_big = client.post("/v1/groups", content=b'{"name": "' + b"x" * (1024 * 1024) + b'"}', headers=actor.headers)
    assert_problem(too_big, 413, "payload_too_large")
