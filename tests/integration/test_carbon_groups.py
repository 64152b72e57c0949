"""Carbon's groups through the real handlers: create, read, update, delete, list."""

from __future__ import annotations

import psycopg

from tests.integration.social_support import add, carbon, new_group, person, read
from tests.support.streams import StreamDriver


def test_creating_a_group_makes_the_caller_its_owner_and_only_member(stack: StreamDriver) -> None:
    owner = person(stack)
    answer = carbon(stack, "POST", "/v1/groups", owner, body={"name": "Climbers", "description": "Rocks"})
    assert answer.status == 201
    assert answer.header("X-Write-Version")
    group = answer.body
    assert group["owner_id"] == str(owner.entity_id)
    assert (group["member_count"], group["visibility"], group["description"]) == (1, "public", "Rocks")
    assert read(f"/v1/groups/{group['id']}", owner).body == group
    members = read(f"/v1/groups/{group['id']}/members", owner).body["items"]
    assert [(m["entity_id"], m["role"]) for m in members] == [(str(owner.entity_id), "owner")]


def test_invalid_group_bodies_are_400_and_create_nothing(stack: StreamDriver, postgres: str) -> None:
    owner = person(stack)
    for body in (
        {"name": ""},
        {"name": "   "},
        {"name": "x" * 101},
        {"name": "ok", "visibility": "secret"},
        {"name": "ok", "description": "d" * 1001},
        {"name": 5},
        {"name": "ok", "extra": 1},
    ):
        answer = carbon(stack, "POST", "/v1/groups", owner, body=body)
        assert (answer.status, answer.body["code"]) == (400, "invalid_request"), body
    with psycopg.connect(postgres) as conn:
        assert conn.execute("SELECT count(*) FROM groups").fetchone() == (0,)


def test_a_private_group_is_404_to_non_members_and_visible_to_members(stack: StreamDriver) -> None:
    owner, member, outsider = person(stack), person(stack), person(stack)
    group = new_group(stack, owner, "private")
    add(stack, group["id"], owner, member)
    assert read(f"/v1/groups/{group['id']}", member).status == 200
    answer = read(f"/v1/groups/{group['id']}", outsider)
    assert (answer.status, answer.body["code"]) == (404, "not_found")


def test_unknown_and_malformed_group_ids_are_404(stack: StreamDriver) -> None:
    caller = person(stack)
    assert read("/v1/groups/7b0c7d4e-3a43-4e5e-9d1b-3f6e2a1c0b9a", caller).status == 404
    assert read("/v1/groups/not-a-uuid", caller).status == 404
    assert carbon(stack, "PATCH", "/v1/groups/not-a-uuid", caller, body={"name": "x"}).status == 404


def test_owner_and_admins_may_update_a_group_members_may_not(stack: StreamDriver) -> None:
    owner, admin, member = person(stack), person(stack), person(stack)
    group = new_group(stack, owner)
    add(stack, group["id"], owner, admin, "admin")
    add(stack, group["id"], owner, member)
    path = f"/v1/groups/{group['id']}"
    updated = carbon(stack, "PATCH", path, owner, body={"name": "Boulderers", "description": "Low"})
    assert (updated.status, updated.body["name"], updated.body["description"]) == (200, "Boulderers", "Low")
    cleared = carbon(stack, "PATCH", path, admin, body={"description": None, "visibility": "private"})
    assert (cleared.status, cleared.body["description"], cleared.body["visibility"]) == (200, None, "private")
    assert cleared.body["name"] == "Boulderers"
    refused = carbon(stack, "PATCH", path, member, body={"name": "Mine"})
    assert (refused.status, refused.body["code"]) == (403, "forbidden")
    assert read(path, owner).body["name"] == "Boulderers"


def test_updating_a_private_group_as_an_outsider_is_404(stack: StreamDriver) -> None:
    owner, outsider = person(stack), person(stack)
    group = new_group(stack, owner, "private")
    assert carbon(stack, "PATCH", f"/v1/groups/{group['id']}", outsider, body={"name": "x"}).status == 404
    public = new_group(stack, owner, "public")
    assert carbon(stack, "PATCH", f"/v1/groups/{public['id']}", outsider, body={"name": "x"}).status == 403


def test_only_the_owner_deletes_and_a_deleted_group_leaves_every_read_view(stack: StreamDriver) -> None:
    owner, admin = person(stack), person(stack)
    group = new_group(stack, owner)
    add(stack, group["id"], owner, admin, "admin")
    path = f"/v1/groups/{group['id']}"
    assert carbon(stack, "DELETE", path, admin).status == 403
    deleted = carbon(stack, "DELETE", path, owner)
    assert (deleted.status, deleted.body) == (204, None)
    assert read(path, owner).status == 404
    assert read(f"{path}/members", owner).status == 404
    assert read("/v1/groups", owner).body["items"] == []
    assert read("/v1/entities/me/groups", admin).body["items"] == []
    assert carbon(stack, "DELETE", path, owner).status == 404
    assert carbon(stack, "POST", f"{path}/join", person(stack)).status == 404


def test_public_groups_are_listed_oldest_first_page_by_page_without_private_ones(stack: StreamDriver) -> None:
    owner = person(stack)
    created = [new_group(stack, owner, "public", f"g{i}")["id"] for i in range(5)]
    new_group(stack, owner, "private", "hidden")
    seen: list[str] = []
    cursor = None
    while True:
        page = read(
            "/v1/groups", owner, query={"visibility": "public", "limit": "2", **({"cursor": cursor} if cursor else {})}
        )
        assert page.status == 200
        seen += [g["id"] for g in page.body["items"]]
        cursor = page.body["next_cursor"]
        if cursor is None:
            break
    assert seen == created
    assert read("/v1/groups", owner, query={"visibility": "private"}).status == 400


def test_my_groups_lists_each_group_with_the_callers_role(stack: StreamDriver) -> None:
    me, other = person(stack), person(stack)
    mine = new_group(stack, me, "private", "mine")
    theirs = new_group(stack, other, "public", "theirs")
    assert carbon(stack, "POST", f"/v1/groups/{theirs['id']}/join", me).status == 201
    items = read("/v1/entities/me/groups", me).body["items"]
    assert [(g["id"], g["role"]) for g in items] == [(mine["id"], "owner"), (theirs["id"], "member")]
    assert items[1]["member_count"] == 2
