"""GraphQL over HTTP against the local stack (its read cache is verified when the e2e session ends)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.e2e.contract_support import entity, settled


def graphql(client: httpx.Client, headers: dict[str, str], query: str, **variables: Any) -> httpx.Response:
    return client.post("/v1/graphql", json={"query": query, "variables": variables}, headers=headers)


def test_graphql_reads_a_group_and_its_members_after_a_write_over_http(client: httpx.Client) -> None:
    # Given an owner and a member of a private group, and an outsider
    owner_id, owner = entity(client)
    member_id, member = entity(client)
    _, outsider = entity(client)
    group = client.post("/v1/groups", json={"name": "Graph", "visibility": "private"}, headers=owner).json()
    added = client.post(f"/v1/groups/{group['id']}/members", json={"entity_id": member_id}, headers=owner)
    assert added.status_code == 201, added.text
    settled(client, owner, added)
    query = (
        "query($id: ID!) { me { id } group(id: $id) { name memberCount members(first: 1) {"
        " edges { node { entityId role entity { id } } } pageInfo { hasNextPage endCursor } } } }"
    )

    # When the member and the outsider ask over HTTP, waiting for the write
    seen = graphql(client, member, query, id=group["id"])
    hidden = graphql(client, outsider, query, id=group["id"])

    # Then the member sees it (Relay connection, camelCase), the outsider gets null + not_found
    assert seen.status_code == 200, seen.text
    data = seen.json()["data"]
    assert (data["me"]["id"], data["group"]["memberCount"]) == (member_id, 2)
    members = data["group"]["members"]
    assert [e["node"]["entityId"] for e in members["edges"]] == [owner_id]
    assert members["pageInfo"]["hasNextPage"] is True
    assert hidden.status_code == 200
    assert hidden.json()["data"]["group"] is None
    assert [e["extensions"]["code"] for e in hidden.json()["errors"]] == ["not_found"]


def test_graphql_refusals_over_http(client: httpx.Client) -> None:
    # Given a caller
    _, headers = entity(client)

    # When the query is malformed, the body is not JSON, and there is no token
    malformed = graphql(client, headers, "{ me { id ")
    not_json = client.post("/v1/graphql", content=b"{", headers={**headers, "Content-Type": "application/json"})
    anonymous = client.post("/v1/graphql", json={"query": "{ me { id } }"})

    # Then 400 invalid_request in GraphQL's shape, and 401
    assert (malformed.status_code, malformed.json()["errors"][0]["extensions"]["code"]) == (400, "invalid_request")
    assert not_json.status_code == 400
    assert anonymous.status_code == 401
