"""Carbon's memberships through the real handlers: join, add, roles, remove, leave, ownership."""

from __future__ import annotations

from tests.integration.social_support import add, carbon, deactivate, new_group, person, read
from tests.support.streams import StreamDriver

UNKNOWN = "7b0c7d4e-3a43-4e5e-9d1b-3f6e2a1c0b9a"


def test_joining_a_public_group_makes_a_member_once(stack: StreamDriver) -> None:
    owner, joiner = person(stack), person(stack)
    group = new_group(stack, owner)
    joined = carbon(stack, "POST", f"/v1/groups/{group['id']}/join", joiner)
    assert joined.status == 201
    assert (joined.body["entity_id"], joined.body["role"]) == (str(joiner.entity_id), "member")
    again = carbon(stack, "POST", f"/v1/groups/{group['id']}/join", joiner)
    assert (again.status, again.body["code"]) == (409, "conflict")
    assert read(f"/v1/groups/{group['id']}", owner).body["member_count"] == 2


def test_joining_a_private_group_is_403(stack: StreamDriver) -> None:
    owner, joiner = person(stack), person(stack)
    group = new_group(stack, owner, "private")
    answer = carbon(stack, "POST", f"/v1/groups/{group['id']}/join", joiner)
    assert (answer.status, answer.body["code"]) == (403, "forbidden")
    assert carbon(stack, "POST", f"/v1/groups/{group['id']}/join", owner).status == 409


def test_owner_adds_admins_admins_add_members_but_not_admins(stack: StreamDriver) -> None:
    owner, admin, member, newcomer, other = (person(stack) for _ in range(5))
    group = new_group(stack, owner, "private")
    gid = group["id"]
    assert add(stack, gid, owner, admin, "admin").body["role"] == "admin"
    assert add(stack, gid, admin, member).status == 201
    refused = add(stack, gid, admin, newcomer, "admin")
    assert (refused.status, refused.body["code"]) == (403, "forbidden")
    assert add(stack, gid, member, newcomer).status == 403
    assert add(stack, gid, other, newcomer).status == 404  # an outsider of a private group
    assert add(stack, gid, owner, member).status == 409


def test_adding_an_unknown_or_deactivated_entity_is_404(stack: StreamDriver) -> None:
    owner, gone = person(stack), person(stack)
    group = new_group(stack, owner)
    deactivate(stack, gone)
    body = {"entity_id": UNKNOWN}
    assert carbon(stack, "POST", f"/v1/groups/{group['id']}/members", owner, body=body).status == 404
    assert add(stack, group["id"], owner, gone).status == 404
    bad = carbon(stack, "POST", f"/v1/groups/{group['id']}/members", owner, body={"entity_id": "x"})
    assert bad.status == 400
    bad_role = carbon(stack, "POST", f"/v1/groups/{group['id']}/members", owner, body={**body, "role": "owner"})
    assert bad_role.status == 400


def test_members_are_listed_to_members_only_by_joining_time_page_by_page(stack: StreamDriver) -> None:
    owner, outsider = person(stack), person(stack)
    people = [person(stack) for _ in range(4)]
    group = new_group(stack, owner)
    for p in people:
        add(stack, group["id"], owner, p)
    path = f"/v1/groups/{group['id']}/members"
    seen: list[str] = []
    cursor = None
    while True:
        page = read(path, people[0], query={"limit": "2", **({"cursor": cursor} if cursor else {})})
        assert page.status == 200
        seen += [m["entity_id"] for m in page.body["items"]]
        cursor = page.body["next_cursor"]
        if cursor is None:
            break
    assert seen == [str(owner.entity_id)] + [str(p.entity_id) for p in people]
    assert read(path, outsider).status == 403
    private = new_group(stack, owner, "private")
    assert read(f"/v1/groups/{private['id']}/members", outsider).status == 404


def test_only_the_owner_changes_roles(stack: StreamDriver) -> None:
    owner, admin, member, outsider = (person(stack) for _ in range(4))
    group = new_group(stack, owner)
    add(stack, group["id"], owner, admin, "admin")
    add(stack, group["id"], owner, member)
    path = f"/v1/groups/{group['id']}/members"
    promoted = carbon(stack, "PATCH", f"{path}/{member.entity_id}", owner, body={"role": "admin"})
    assert (promoted.status, promoted.body["role"]) == (200, "admin")
    same = carbon(stack, "PATCH", f"{path}/{member.entity_id}", owner, body={"role": "admin"})
    assert (same.status, same.header("X-Write-Version")) == (200, promoted.header("X-Write-Version"))
    assert carbon(stack, "PATCH", f"{path}/{member.entity_id}", admin, body={"role": "member"}).status == 403
    assert carbon(stack, "PATCH", f"{path}/{outsider.entity_id}", owner, body={"role": "admin"}).status == 404
    own = carbon(stack, "PATCH", f"{path}/{owner.entity_id}", owner, body={"role": "member"})
    assert (own.status, own.body["code"]) == (422, "operation_failed")
    assert carbon(stack, "PATCH", f"{path}/{member.entity_id}", owner, body={"role": "owner"}).status == 400
    roles = {m["entity_id"]: m["role"] for m in read(path, owner).body["items"]}
    assert roles[str(member.entity_id)] == "admin"


def test_admins_remove_members_members_leave_and_the_owner_cannot_leave(stack: StreamDriver) -> None:
    owner, admin, other_admin, member, leaver = (person(stack) for _ in range(5))
    group = new_group(stack, owner)
    gid = group["id"]
    add(stack, gid, owner, admin, "admin")
    add(stack, gid, owner, other_admin, "admin")
    add(stack, gid, owner, member)
    add(stack, gid, owner, leaver)
    path = f"/v1/groups/{gid}/members"
    assert carbon(stack, "DELETE", f"{path}/{admin.entity_id}", member).status == 403
    assert carbon(stack, "DELETE", f"{path}/{other_admin.entity_id}", admin).status == 403
    assert carbon(stack, "DELETE", f"{path}/{member.entity_id}", admin).status == 204
    assert carbon(stack, "DELETE", f"{path}/{leaver.entity_id}", leaver).status == 204
    assert carbon(stack, "DELETE", f"{path}/{leaver.entity_id}", leaver).status == 404
    stuck = carbon(stack, "DELETE", f"{path}/{owner.entity_id}", owner)
    assert (stuck.status, stuck.body["code"]) == (422, "operation_failed")
    assert carbon(stack, "DELETE", f"{path}/{owner.entity_id}", admin).status == 403
    assert read(f"/v1/groups/{gid}", owner).body["member_count"] == 3
    assert read(f"/v1/groups/{gid}/members", member).status == 403
    assert carbon(stack, "POST", f"/v1/groups/{gid}/join", member).status == 201  # a removed member may re-join


def test_handing_ownership_over_makes_the_old_owner_an_admin_who_may_then_leave(stack: StreamDriver) -> None:
    owner, heir, outsider = person(stack), person(stack), person(stack)
    group = new_group(stack, owner)
    gid = group["id"]
    add(stack, gid, owner, heir)
    assert carbon(stack, "POST", f"/v1/groups/{gid}/owner", heir, body={"entity_id": str(heir.entity_id)}).status == 403
    to_self = carbon(stack, "POST", f"/v1/groups/{gid}/owner", owner, body={"entity_id": str(owner.entity_id)})
    assert (to_self.status, to_self.body["owner_id"]) == (200, str(owner.entity_id))
    assert to_self.header("X-Write-Version")
    not_member = carbon(stack, "POST", f"/v1/groups/{gid}/owner", owner, body={"entity_id": str(outsider.entity_id)})
    assert not_member.status == 404
    moved = carbon(stack, "POST", f"/v1/groups/{gid}/owner", owner, body={"entity_id": str(heir.entity_id)})
    assert (moved.status, moved.body["owner_id"]) == (200, str(heir.entity_id))
    roles = {m["entity_id"]: m["role"] for m in read(f"/v1/groups/{gid}/members", heir).body["items"]}
    assert roles == {str(owner.entity_id): "admin", str(heir.entity_id): "owner"}
    assert carbon(stack, "DELETE", f"/v1/groups/{gid}/members/{owner.entity_id}", owner).status == 204
    assert read(f"/v1/groups/{gid}", heir).body["member_count"] == 1


def test_concurrent_joins_are_serialized_per_group_and_the_count_stays_exact(
    stack: StreamDriver, postgres: str
) -> None:
    import threading

    import psycopg

    from fluorine import db
    from shared.contracts.carbon import JoinGroup
    from shared.errors import AppError
    from tests.support.factories import act

    owner = person(stack)
    joiners = [person(stack) for _ in range(6)]
    group = new_group(stack, owner)
    outcomes: list[str] = []

    def join(who_id: str) -> None:
        command = JoinGroup(group_id=group["id"], entity_id=who_id)
        try:
            act(command)
            outcomes.append("joined")
        except AppError as error:
            outcomes.append(error.code)
        finally:
            db.close()

    # When every joiner joins at once, and one of them twice
    threads = [threading.Thread(target=join, args=(str(j.entity_id),)) for j in [*joiners, joiners[0]]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then each joined once, the duplicate was a conflict, and the count matches the rows
    assert sorted(outcomes) == ["conflict"] + ["joined"] * 6
    with psycopg.connect(postgres) as conn:
        count = conn.execute("SELECT member_count FROM groups WHERE id = %s", (group["id"],)).fetchone()
        rows = conn.execute("SELECT count(*) FROM group_members WHERE group_id = %s", (group["id"],)).fetchone()
    assert count == rows == (7,)
