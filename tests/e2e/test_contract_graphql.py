"""GraphQL against the contract over HTTP: the required fields in camelCase, Relay connections,
the REST visibility rules, errors with extensions.code, and X-Min-Version."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.e2e.contract_support import (
    Actor,
    admin_headers,
    assert_written,
    fresh,
    key,
    new_asset,
    register,
)

MAX = 9_223_372_036_854_775_807
PAGE = "pageInfo { hasNextPage endCursor }"


def gql(client: httpx.Client, headers: dict[str, str], query: str, **variables: Any) -> dict[str, Any]:
    answer = client.post("/v1/graphql", json={"query": query, "variables": variables}, headers=headers)
    assert answer.status_code in {200, 400}, answer.text
    body: dict[str, Any] = answer.json()
    return body


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


def test_me_entity_and_entity_by_handle_speak_camel_case_and_honour_x_min_version(client: httpx.Client) -> None:
    alice, bob = register(client), register(client)
    renamed = client.patch("/v1/entities/me", json={"display_name": "Alice G"}, headers=alice.headers)
    me = gql(client, fresh(alice.headers, renamed), "{ me { id handle displayName kind roles status createdAt } }")
    assert me["data"]["me"]["displayName"] == "Alice G"
    assert (me["data"]["me"]["id"], me["data"]["me"]["status"]) == (alice.id, "active")
    profile = gql(client, bob.headers, "query($id: ID!) { entity(id: $id) { id handle displayName } }", id=alice.id)
    assert profile["data"]["entity"] == {"id": alice.id, "handle": alice.handle, "displayName": "Alice G"}
    by_handle = gql(client, bob.headers, "query($h: String!) { entityByHandle(handle: $h) { id } }", h=alice.handle)
    assert by_handle["data"]["entityByHandle"] == {"id": alice.id}
    for unknown in (str(uuid.uuid4()), "not-a-uuid"):
        missing = gql(client, bob.headers, "query($id: ID!) { entity(id: $id) { id } }", id=unknown)
        assert (missing["data"]["entity"], codes(missing)) == (None, ["not_found"])
    unauthenticated = client.post("/v1/graphql", json={"query": "{ me { id } }"})
    assert unauthenticated.status_code == 401
    garbage = client.post("/v1/graphql", json={"query": "{ me { id } }"}, headers={**bob.headers, "X-Min-Version": "x"})
    assert codes(garbage.json()) == ["invalid_request"]
    assert codes(gql(client, bob.headers, "{ nope }")) == ["invalid_request"]
    assert codes(gql(client, bob.headers, "{ me { id ")) == ["invalid_request"]


def test_assets_and_the_wallet_page_transfers_as_a_relay_connection(client: httpx.Client) -> None:
    admin = admin_headers(client)
    code = new_asset(client, admin)
    alice, bob = register(client), register(client)
    client.post(f"/v1/assets/{code}/issue", json={"to": alice.id, "amount": MAX}, headers=admin)
    last = None
    for amount in (1, 2, 3):
        body = {"to": bob.id, "asset": code, "amount": amount}
        last = client.post("/v1/transfers", json=body, headers={**alice.headers, **key()})
        assert_written(last, 201)
    assert last is not None
    asset = gql(client, alice.headers, "query($c: String!) { asset(code: $c) { code name scale createdAt } }", c=code)
    assert asset["data"]["asset"]["code"] == code
    assert code in [a["code"] for a in gql(client, alice.headers, "{ assets { code } }")["data"]["assets"]]
    assert codes(gql(client, alice.headers, '{ asset(code: "NOPE-NOT-HERE") { code } }')) == ["not_found"]
    query = (
        "query($after: String) { wallet { balances { asset amount held available scale } "
        "transfers(first: 2, after: $after) { edges { cursor node { id from to asset amount kind memo createdAt } } "
        f"{PAGE} }} }} }}"
    )
    first = gql(client, fresh(alice.headers, last), query)["data"]["wallet"]
    assert first["balances"] == [{"asset": code, "amount": MAX - 6, "held": 0, "available": MAX - 6, "scale": 2}]
    page = first["transfers"]
    assert [e["node"]["amount"] for e in page["edges"]] == [3, 2]
    assert page["pageInfo"]["hasNextPage"] is True
    assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
    rest = gql(client, alice.headers, query, after=page["pageInfo"]["endCursor"])["data"]["wallet"]["transfers"]
    assert [e["node"]["amount"] for e in rest["edges"]] == [1, MAX]
    assert rest["pageInfo"]["hasNextPage"] is False
    assert rest["edges"][-1]["node"]["from"] is None
    for bad in (
        "{ wallet { transfers(first: 0) { edges { cursor } } } }",
        "{ wallet { transfers(first: 101) { edges { cursor } } } }",
    ):
        assert codes(gql(client, alice.headers, bad)) == ["invalid_request"]
    bad_cursor = gql(client, alice.headers, '{ wallet { transfers(after: "garbage") { edges { cursor } } } }')
    assert codes(bad_cursor) == ["invalid_request"]


def members_of(
    client: httpx.Client, actor: Actor, group_id: str, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    members = f"members(first: 10) {{ edges {{ node {{ entityId role joinedAt }} }} {PAGE} }}"
    query = f"query($id: ID!) {{ group(id: $id) {{ id name memberCount {members} }} }}"
    return gql(client, headers or actor.headers, query, id=group_id)


def test_groups_follow_the_rest_visibility_rules_and_my_groups_carries_the_role(client: httpx.Client) -> None:
    owner, member, outsider = register(client), register(client), register(client)
    private = client.post("/v1/groups", json={"name": "Hidden", "visibility": "private"}, headers=owner.headers)
    public = client.post("/v1/groups", json={"name": "Open"}, headers=owner.headers)
    joined = client.post(f"/v1/groups/{public.json()['id']}/join", headers=member.headers)
    assert_written(joined, 201)
    seen = members_of(client, member, public.json()["id"], fresh(member.headers, joined))["data"]["group"]
    assert seen["memberCount"] == 2
    assert [(e["node"]["entityId"], e["node"]["role"]) for e in seen["members"]["edges"]] == [
        (owner.id, "owner"),
        (member.id, "member"),
    ]
    assert seen["members"]["pageInfo"]["hasNextPage"] is False
    not_member = members_of(client, outsider, public.json()["id"])
    assert not_member["data"]["group"]["name"] == "Open"
    assert not_member["data"]["group"]["members"] is None
    assert codes(not_member) == ["forbidden"]
    hidden = members_of(client, outsider, private.json()["id"])
    assert (hidden["data"]["group"], codes(hidden)) == (None, ["not_found"])
    mine = gql(client, fresh(member.headers, joined), "{ myGroups { id name role memberCount } }")["data"]["myGroups"]
    assert [(g["id"], g["role"]) for g in mine] == [(public.json()["id"], "member")]


def test_the_inbox_connection_pages_newest_first_and_filters_on_unread(client: httpx.Client) -> None:
    alice, bob = register(client), register(client)
    sent = [
        client.post("/v1/messages", json={"to_entity": bob.id, "body": f"gql {n}"}, headers=alice.headers).json()["id"]
        for n in range(3)
    ]
    marked = client.post(f"/v1/messages/{sent[0]}/read", headers=bob.headers)
    query = (
        "query($after: String, $unread: Boolean) { inbox(first: 2, after: $after, unread: $unread) "
        f"{{ edges {{ cursor node {{ id from body sentAt read to {{ entityId groupId all }} }} }} {PAGE} }} }}"
    )
    first = gql(client, fresh(bob.headers, marked), query)["data"]["inbox"]
    rest = gql(client, bob.headers, query, after=first["pageInfo"]["endCursor"])["data"]["inbox"]
    assert [e["node"]["id"] for e in first["edges"] + rest["edges"]] == sent[::-1]
    assert first["edges"][0]["node"]["to"] == {"entityId": bob.id, "groupId": None, "all": False}
    unread = gql(client, bob.headers, query, unread=True)["data"]["inbox"]["edges"]
    assert [e["node"]["id"] for e in unread] == [sent[2], sent[1]]
    read = gql(client, bob.headers, query, unread=False)["data"]["inbox"]["edges"]
    assert [(e["node"]["id"], e["node"]["read"]) for e in read] == [(sent[0], True)]
