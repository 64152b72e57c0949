"""Carbon against the contract over HTTP: groups, visibility (403 vs 404), memberships and roles,
ownership, broadcasts and distributions."""

from __future__ import annotations

import uuid

import httpx

from tests.e2e.contract_support import (
    Actor,
    admin_headers,
    assert_problem,
    assert_written,
    fresh,
    inbox_with,
    key,
    new_asset,
    register,
    settled,
)

GROUP_FIELDS = {"id", "name", "description", "visibility", "owner_id", "member_count", "created_at"}


def new_group(client: httpx.Client, owner: Actor, **body: object) -> tuple[dict[str, object], httpx.Response]:
    created = client.post("/v1/groups", json={"name": "Contract group", **body}, headers=owner.headers)
    assert_written(created, 201)
    return created.json(), created


def test_groups_are_validated_and_private_ones_are_404_to_non_members(client: httpx.Client) -> None:
    owner, outsider = register(client), register(client)
    for bad in ({}, {"name": ""}, {"name": "   "}, {"name": "n" * 101}, {"name": "g", "visibility": "secret"}):
        assert_problem(client.post("/v1/groups", json=bad, headers=owner.headers), 400, "invalid_request")
    assert_problem(
        client.post("/v1/groups", json={"name": "g", "description": "d" * 1001}, headers=owner.headers),
        400,
        "invalid_request",
    )
    group, created = new_group(client, owner, visibility="private", description="d" * 1000)
    assert set(group) >= GROUP_FIELDS
    assert (group["owner_id"], group["member_count"], group["visibility"]) == (owner.id, 1, "private")
    seen = client.get(f"/v1/groups/{group['id']}", headers=fresh(owner.headers, created))
    assert (seen.status_code, seen.json()) == (200, group)
    hidden = client.get(f"/v1/groups/{group['id']}", headers=outsider.headers)
    assert_problem(hidden, 404, "not_found")
    gid = group["id"]
    assert_problem(client.get(f"/v1/groups/{gid}/members", headers=outsider.headers), 404, "not_found")
    assert_problem(client.patch(f"/v1/groups/{gid}", json={"name": "x"}, headers=outsider.headers), 404, "not_found")
    assert_problem(client.post(f"/v1/groups/{gid}/join", headers=outsider.headers), 403, "forbidden")
    for unknown in (str(uuid.uuid4()), "not-a-uuid"):
        assert_problem(client.get(f"/v1/groups/{unknown}", headers=owner.headers), 404, "not_found")
        assert_problem(client.post(f"/v1/groups/{unknown}/join", headers=owner.headers), 404, "not_found")
    public = client.get("/v1/groups", params={"visibility": "public", "limit": 100}, headers=outsider.headers)
    assert gid not in [g["id"] for g in public.json()["items"]]


def test_joining_roles_and_ownership_follow_the_contract(client: httpx.Client) -> None:
    owner, member, helper, stranger = (register(client) for _ in range(4))
    group, _ = new_group(client, owner)
    gid = group["id"]
    joined = client.post(f"/v1/groups/{gid}/join", headers=member.headers)
    assert_written(joined, 201)
    assert (joined.json()["entity_id"], joined.json()["role"]) == (member.id, "member")
    assert_problem(client.post(f"/v1/groups/{gid}/join", headers=member.headers), 409, "conflict")
    add = {"entity_id": helper.id, "role": "admin"}
    assert_problem(client.post(f"/v1/groups/{gid}/members", json=add, headers=member.headers), 403, "forbidden")
    assert_problem(client.patch(f"/v1/groups/{gid}", json={"name": "x"}, headers=member.headers), 403, "forbidden")
    outsider_list = client.get(f"/v1/groups/{gid}/members", headers=stranger.headers)
    assert_problem(outsider_list, 403, "forbidden")
    added = client.post(f"/v1/groups/{gid}/members", json=add, headers=owner.headers)
    assert_written(added, 201)
    assert added.json()["role"] == "admin"
    promote = {"entity_id": stranger.id, "role": "admin"}
    assert_problem(client.post(f"/v1/groups/{gid}/members", json=promote, headers=helper.headers), 403, "forbidden")
    owner_role = {"entity_id": stranger.id, "role": "owner"}
    assert_problem(
        client.post(f"/v1/groups/{gid}/members", json=owner_role, headers=owner.headers), 400, "invalid_request"
    )
    unknown = {"entity_id": str(uuid.uuid4()), "role": "member"}
    assert_problem(client.post(f"/v1/groups/{gid}/members", json=unknown, headers=owner.headers), 404, "not_found")
    for bad in ({"name": None}, {"visibility": None}, {"name": "  "}, {"visibility": "secret"}, {"owner_id": owner.id}):
        assert_problem(client.patch(f"/v1/groups/{gid}", json=bad, headers=owner.headers), 400, "invalid_request")
    renamed = client.patch(f"/v1/groups/{gid}", json={"name": "Renamed", "description": "now"}, headers=helper.headers)
    assert_written(renamed, 200)
    assert (renamed.json()["name"], renamed.json()["description"]) == ("Renamed", "now")
    settled(client, owner.headers, added)
    listed = client.get(f"/v1/groups/{gid}/members", params={"limit": 2}, headers=member.headers).json()
    rest = client.get(f"/v1/groups/{gid}/members", params={"cursor": listed["next_cursor"]}, headers=member.headers)
    members = listed["items"] + rest.json()["items"]
    assert [m["entity_id"] for m in members] == [owner.id, member.id, helper.id]
    assert [m["joined_at"] for m in members] == sorted(m["joined_at"] for m in members)
    assert_problem(
        client.patch(f"/v1/groups/{gid}/members/{member.id}", json={"role": "admin"}, headers=helper.headers),
        403,
        "forbidden",
    )
    changed = client.patch(f"/v1/groups/{gid}/members/{member.id}", json={"role": "admin"}, headers=owner.headers)
    assert_written(changed, 200)
    assert changed.json()["role"] == "admin"
    assert_problem(
        client.delete(f"/v1/groups/{gid}/members/{owner.id}", headers=owner.headers), 422, "operation_failed"
    )
    to_stranger = client.post(f"/v1/groups/{gid}/owner", json={"entity_id": stranger.id}, headers=owner.headers)
    assert to_stranger.status_code in {404, 422}
    assert_problem(
        client.post(f"/v1/groups/{gid}/owner", json={"entity_id": member.id}, headers=helper.headers),
        403,
        "forbidden",
    )
    moved = client.post(f"/v1/groups/{gid}/owner", json={"entity_id": member.id}, headers=owner.headers)
    assert_written(moved, 200)
    assert moved.json()["owner_id"] == member.id
    left = client.delete(f"/v1/groups/{gid}/members/{owner.id}", headers=owner.headers)
    assert_written(left, 204)
    settled(client, owner.headers, left)
    mine = client.get("/v1/entities/me/groups", headers=member.headers).json()["items"]
    assert [(g["id"], g["role"], g["member_count"]) for g in mine] == [(gid, "owner", 2)]
    assert_problem(client.delete(f"/v1/groups/{gid}", headers=helper.headers), 403, "forbidden")
    deleted = client.delete(f"/v1/groups/{gid}", headers=member.headers)
    assert_written(deleted, 204)
    assert_problem(client.get(f"/v1/groups/{gid}", headers=fresh(member.headers, deleted)), 404, "not_found")
    assert client.get("/v1/entities/me/groups", headers=helper.headers).json()["items"] == []


def test_a_broadcast_reaches_members_joined_before_it_and_a_distribution_pays_all_or_nothing(
    client: httpx.Client,
) -> None:
    admin = admin_headers(client)
    code = new_asset(client, admin, scale=0)
    owner, early, late = register(client), register(client), register(client)
    group, _ = new_group(client, owner)
    gid = group["id"]
    client.post(f"/v1/groups/{gid}/join", headers=early.headers)
    text = f"meeting {uuid.uuid4().hex[:8]}"
    assert_problem(
        client.post(f"/v1/groups/{gid}/broadcast", json={"body": ""}, headers=owner.headers), 400, "invalid_request"
    )
    assert_problem(
        client.post(f"/v1/groups/{gid}/broadcast", json={"body": text}, headers=early.headers), 403, "forbidden"
    )
    sent = client.post(f"/v1/groups/{gid}/broadcast", json={"body": text}, headers=owner.headers)
    assert_written(sent, 202)
    message = next(m for m in inbox_with(client, early, text) if m["body"] == text)
    assert (message["from"], message["to"], message["read"]) == (owner.id, {"group_id": gid}, False)
    joined = client.post(f"/v1/groups/{gid}/join", headers=late.headers)
    assert all(
        m["body"] != text for m in client.get("/v1/messages/inbox", headers=fresh(late.headers, joined)).json()["items"]
    )
    pay = {"asset": code, "amount_each": 40}
    assert_problem(client.post(f"/v1/groups/{gid}/distribute", json=pay, headers=owner.headers), 400, "invalid_request")
    assert_problem(
        client.post(f"/v1/groups/{gid}/distribute", json=pay, headers={**owner.headers, **key()}),
        422,
        "operation_failed",
    )
    client.post(f"/v1/assets/{code}/issue", json={"to": owner.id, "amount": 100}, headers=admin)
    for bad in ({**pay, "amount_each": "40"}, {**pay, "amount_each": 0}, {**pay, "amount_each": 2.5}):
        answer = client.post(f"/v1/groups/{gid}/distribute", json=bad, headers={**owner.headers, **key()})
        assert_problem(answer, 400, "invalid_request")
    idem = key()
    paid = client.post(f"/v1/groups/{gid}/distribute", json=pay, headers={**owner.headers, **idem})
    assert_written(paid, 201)
    assert paid.json() == {"transfers": 2, "total": 80}
    again = client.post(f"/v1/groups/{gid}/distribute", json=pay, headers={**owner.headers, **idem})
    assert (again.status_code, again.json()) == (201, paid.json())
    too_much = client.post(
        f"/v1/groups/{gid}/distribute", json={**pay, "amount_each": 11}, headers={**owner.headers, **key()}
    )
    assert_problem(too_much, 422, "operation_failed")
    settled(client, owner.headers, paid)  # a small group's payees are all in the payer's write version
    for actor, amount in ((owner, 20), (early, 40), (late, 40)):
        balances = client.get("/v1/wallets/me", headers=actor.headers).json()["balances"]
        assert balances == [{"asset": code, "amount": amount, "held": 0, "available": amount, "scale": 0}]


def test_a_distribution_in_a_group_of_one_pays_no_one_and_still_answers_a_write_version(client: httpx.Client) -> None:
    admin = admin_headers(client)
    code = new_asset(client, admin)
    owner = register(client)
    group, _ = new_group(client, owner)
    paid = client.post(
        f"/v1/groups/{group['id']}/distribute",
        json={"asset": code, "amount_each": 5},
        headers={**owner.headers, **key()},
    )
    assert_written(paid, 201)
    assert paid.json() == {"transfers": 0, "total": 0}
    assert client.get(f"/v1/groups/{group['id']}", headers=fresh(owner.headers, paid)).status_code == 200
