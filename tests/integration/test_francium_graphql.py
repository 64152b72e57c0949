"""GraphQL over the read side through the real handler: the same answers and rules as REST."""

from __future__ import annotations

from tests.integration.graphql_support import codes, graphql
from tests.integration.social_support import add, carbon, deactivate, new_group, person, read, rhenium
from tests.support.streams import StreamDriver

UNKNOWN = "7b0c7d4e-3a43-4e5e-9d1b-3f6e2a1c0b9a"


def test_me_entity_and_entity_by_handle_answer_camel_case_like_rest(stack: StreamDriver) -> None:
    # Given two entities
    alice, bob = person(stack), person(stack)
    bob_rest = read(f"/v1/entities/{bob.entity_id}", alice).body

    # When alice asks for herself, bob by id and bob by handle
    answer = graphql(
        alice,
        "query($id: ID!, $h: String!) { me { id handle displayName roles status }"
        " entity(id: $id) { id handle displayName createdAt } entityByHandle(handle: $h) { id } }",
        {"id": str(bob.entity_id), "h": bob_rest["handle"]},
    )

    # Then the answer matches REST, camelCase, with no errors
    assert answer.status == 200, answer.body
    data = answer.body["data"]
    assert "errors" not in answer.body
    assert data["me"]["id"] == str(alice.entity_id)
    assert data["me"]["status"] == "active"
    assert data["entity"]["displayName"] == bob_rest["display_name"]
    assert data["entityByHandle"] == {"id": str(bob.entity_id)}
    assert "email" not in data["entity"]


def test_unknown_or_deactivated_entity_is_null_with_not_found_and_unknown_handle_is_null(stack: StreamDriver) -> None:
    # Given a deactivated entity
    alice, gone = person(stack), person(stack)
    deactivate(stack, gone)

    # When alice looks up an unknown id, a malformed id, the deactivated one and an unknown handle
    answer = graphql(
        alice,
        f'{{ a: entity(id: "{UNKNOWN}") {{ id }} b: entity(id: "nope") {{ id }}'
        f' c: entity(id: "{gone.entity_id}") {{ id }} d: entityByHandle(handle: "nobody_here") {{ id }} }}',
    )

    # Then each is null; the three by id carry not_found errors with their paths
    assert answer.status == 200
    assert answer.body["data"] == {"a": None, "b": None, "c": None, "d": None}
    assert codes(answer) == ["not_found"] * 3
    assert sorted(e["path"][0] for e in answer.body["errors"]) == ["a", "b", "c"]


def test_private_group_is_not_found_to_outsiders_and_members_are_forbidden_to_non_members(stack: StreamDriver) -> None:
    # Given a private and a public group of the owner
    owner, outsider = person(stack), person(stack)
    private, public = new_group(stack, owner, "private"), new_group(stack, owner, "public", "Open")
    query = "query($id: ID!) { group(id: $id) { id name role members { edges { node { entityId } } } } }"

    # When an outsider asks for each with its members
    hidden = graphql(outsider, query, {"id": private["id"]})
    shown = graphql(outsider, query, {"id": public["id"]})

    # Then the private one is null + not_found; the public one shows, its members null + forbidden
    assert (hidden.body["data"], codes(hidden)) == ({"group": None}, ["not_found"])
    assert codes(shown) == ["forbidden"]
    assert shown.body["errors"][0]["path"] == ["group", "members"]
    assert shown.body["data"]["group"] == {"id": public["id"], "name": "Open", "role": None, "members": None}
    plain = graphql(outsider, "query($id: ID!) { group(id: $id) { id role memberCount } }", {"id": public["id"]})
    assert plain.body["data"]["group"] == {"id": public["id"], "role": None, "memberCount": 1}


def test_members_page_through_relay_connection_with_profiles(stack: StreamDriver) -> None:
    # Given a group of five (owner + four members)
    owner = person(stack)
    people = [person(stack) for _ in range(4)]
    group = new_group(stack, owner)
    for who in people:
        assert add(stack, group["id"], owner, who).status == 201
    query = (
        "query($id: ID!, $after: String) { group(id: $id) { members(first: 2, after: $after) {"
        " edges { cursor node { entityId role entity { id handle } } } pageInfo { hasNextPage endCursor } } } }"
    )

    # When the owner pages through two at a time
    seen, after, pages = [], None, 0
    while True:
        answer = graphql(owner, query, {"id": group["id"], "after": after})
        assert answer.status == 200
        assert "errors" not in answer.body, answer.body
        members = answer.body["data"]["group"]["members"]
        seen += [e["node"] for e in members["edges"]]
        pages += 1
        if not members["pageInfo"]["hasNextPage"]:
            break
        after = members["pageInfo"]["endCursor"]
        assert after == members["edges"][-1]["cursor"]

    # Then everyone is there once, in joining order, with their profiles; the same order as REST
    rest = read(f"/v1/groups/{group['id']}/members", owner, query={"limit": "100"}).body["items"]
    assert [m["entityId"] for m in seen] == [m["entity_id"] for m in rest]
    assert pages == 3
    assert len(seen) == 5
    assert all(m["entity"]["id"] == m["entityId"] for m in seen)


def test_an_edge_cursor_continues_right_after_its_node(stack: StreamDriver) -> None:
    # Given a group of four
    owner = person(stack)
    group = new_group(stack, owner)
    for _ in range(3):
        add(stack, group["id"], owner, person(stack))
    query = (
        "query($id: ID!, $f: Int, $a: String) { group(id: $id) {"
        " members(first: $f, after: $a) { edges { cursor node { entityId } } } } }"
    )
    everyone = graphql(owner, query, {"id": group["id"], "f": 10}).body["data"]["group"]["members"]["edges"]

    # When continuing after the second edge's cursor
    rest = graphql(owner, query, {"id": group["id"], "f": 10, "a": everyone[1]["cursor"]})

    # Then the third and fourth come next
    ids = [e["node"]["entityId"] for e in rest.body["data"]["group"]["members"]["edges"]]
    assert ids == [e["node"]["entityId"] for e in everyone[2:]]


def test_my_groups_and_inbox_follow_rest(stack: StreamDriver) -> None:
    # Given alice in a group, a direct message to her and a group broadcast
    alice, bob = person(stack), person(stack)
    group = new_group(stack, bob, "private")
    add(stack, group["id"], bob, alice)
    assert (
        rhenium(stack, "POST", "/v1/messages", bob, body={"to_entity": str(alice.entity_id), "body": "hi"}).status
        == 201
    )
    assert carbon(stack, "POST", f"/v1/groups/{group['id']}/broadcast", bob, body={"body": "all"}).status == 202

    # When alice asks for her groups and her inbox one message at a time
    query = (
        "query($a: String) { myGroups { id role visibility }"
        " inbox(first: 1, after: $a) { edges { node { id from body read to { entityId groupId all } } }"
        " pageInfo { hasNextPage endCursor } } }"
    )
    first = graphql(alice, query)
    second = graphql(alice, query, {"a": first.body["data"]["inbox"]["pageInfo"]["endCursor"]})

    # Then the groups carry her role and the inbox pages match REST's newest-first order
    assert first.body["data"]["myGroups"] == [{"id": group["id"], "role": "member", "visibility": "private"}]
    rest = [m["id"] for m in read("/v1/messages/inbox", alice).body["items"]]
    pages = [first.body["data"]["inbox"], second.body["data"]["inbox"]]
    assert [p["edges"][0]["node"]["id"] for p in pages] == rest
    assert [p["pageInfo"]["hasNextPage"] for p in pages] == [True, False]
    assert pages[1]["edges"][0]["node"]["from"] == str(bob.entity_id)


def test_unread_filter_leaves_out_read_messages(stack: StreamDriver) -> None:
    # Given two messages to alice, one of them read
    alice, bob = person(stack), person(stack)
    sent = [
        rhenium(stack, "POST", "/v1/messages", bob, body={"to_entity": str(alice.entity_id), "body": f"m{i}"}).body
        for i in range(2)
    ]
    assert rhenium(stack, "POST", f"/v1/messages/{sent[0]['id']}/read", alice).status == 204

    # When she asks for unread messages only
    answer = graphql(alice, "{ inbox(unread: true) { edges { node { id read } } } }")

    # Then only the other one is there
    assert [e["node"] for e in answer.body["data"]["inbox"]["edges"]] == [{"id": sent[1]["id"], "read": False}]
