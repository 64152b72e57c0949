"""GraphQL's refusals and guards: bad requests, limits, read-your-writes, batching."""

from __future__ import annotations

import json
import uuid

import pytest

from francium import cache
from shared import write_versions
from shared.contracts.changes import AggregateVersion
from shared.contracts.oxygen import entity_aggregate
from tests.integration.graphql_support import codes, graphql
from tests.integration.social_support import add, new_group, person
from tests.support.events import FakeContext, api_event, response_json
from tests.support.streams import StreamDriver

MEMBERS_WITH_PROFILES = (
    "query($id: ID!) { group(id: $id) { members(first: 100) { edges { node { entity { id handle } } } } } }"
)


@pytest.mark.parametrize(
    "raw_body",
    ["not json", "[]", '{"variables": {}}', '{"query": ""}', '{"query": "{ me { id } }", "variables": [1]}'],
)
def test_a_body_that_is_not_a_graphql_request_is_400_invalid_request(stack: StreamDriver, raw_body: str) -> None:
    # Given a caller
    alice = person(stack)

    # When the body is not a GraphQL request
    answer = graphql(alice, "", raw_body=raw_body)

    # Then 400, the error in GraphQL's shape
    assert answer.status == 400
    assert codes(answer) == ["invalid_request"]
    assert "data" not in answer.body


@pytest.mark.parametrize("query", ["{ me { id ", "{ me { nope } }", '{ inbox(first: "x") { edges { cursor } } }'])
def test_a_query_that_does_not_parse_or_validate_is_400(stack: StreamDriver, query: str) -> None:
    # Given a caller and a query that cannot run
    alice = person(stack)

    # When it is sent
    answer = graphql(alice, query)

    # Then it is refused whole
    assert answer.status == 400
    assert codes(answer) == ["invalid_request"]


def test_too_deep_too_many_aliases_or_too_many_tokens_are_refused_before_running(stack: StreamDriver) -> None:
    # Given a caller and three abusive queries
    alice = person(stack)
    too_deep = "{ me " + "{ id " * 10 + "}" * 10 + " }"
    aliased = "{ " + " ".join(f"a{i}: me {{ id }}" for i in range(25)) + " }"
    too_long = "{ me { " + " ".join(["id"] * 2100) + " } }"

    # When each is sent
    answers = [graphql(alice, q) for q in (too_deep, aliased, too_long)]

    # Then each is refused whole with invalid_request, the depth one saying so
    assert [(a.status, codes(a)[:1]) for a in answers] == [(400, ["invalid_request"])] * 3
    assert any("depth" in e["message"] for e in answers[0].body["errors"])


@pytest.mark.parametrize("first", [0, 101, -1])
def test_page_sizes_outside_1_to_100_are_invalid_request_errors(stack: StreamDriver, first: int) -> None:
    alice = person(stack)
    answer = graphql(alice, "query($f: Int) { inbox(first: $f) { edges { cursor } } }", {"f": first})
    assert codes(answer) == ["invalid_request"]


def test_a_cursor_of_another_list_is_invalid_request(stack: StreamDriver) -> None:
    # Given two groups of the same owner, each with two members
    owner = person(stack)
    one, two = new_group(stack, owner), new_group(stack, owner, name="Other")
    for group in (one, two):
        add(stack, group["id"], owner, person(stack))
    query = "query($id: ID!, $a: String) { group(id: $id) { members(first: 1, after: $a) { pageInfo { endCursor } } } }"
    cursor = graphql(owner, query, {"id": one["id"]}).body["data"]["group"]["members"]["pageInfo"]["endCursor"]

    # When the first group's cursor is used on the second group, and a garbage cursor too
    foreign = graphql(owner, query, {"id": two["id"], "a": cursor})
    garbage = graphql(owner, query, {"id": two["id"], "a": "!!"})

    # Then both are invalid_request
    assert codes(foreign) == ["invalid_request"]
    assert codes(garbage) == ["invalid_request"]


def test_x_min_version_not_reached_is_503_not_ready_and_a_bad_token_is_400(stack: StreamDriver) -> None:
    # Given a caller and a token naming a version the read side does not have
    alice = person(stack)
    mine = entity_aggregate(alice.entity_id)
    ahead = write_versions.issue([AggregateVersion(aggregate=mine, version=99)], alice.entity_id)
    reached = write_versions.issue([AggregateVersion(aggregate=mine, version=1)], alice.entity_id)
    someone_elses = write_versions.issue([AggregateVersion(aggregate=mine, version=1)], uuid.uuid4())

    # When GraphQL is asked with each
    late = graphql(alice, "{ me { id } }", headers={"X-Min-Version": ahead})
    bad = graphql(alice, "{ me { id } }", headers={"X-Min-Version": "bm9wZQ"})
    foreign = graphql(alice, "{ me { id } }", headers={"X-Min-Version": someone_elses})
    fine = graphql(alice, "{ me { id } }", headers={"X-Min-Version": reached})

    # Then 503 not_ready (with Retry-After), 400 invalid_request (twice), and 200
    assert (late.status, codes(late), late.header("Retry-After")) == (503, ["not_ready"], "1")
    assert (bad.status, codes(bad)) == (400, ["invalid_request"])
    assert (foreign.status, codes(foreign)) == (400, ["invalid_request"])
    assert fine.status == 200
    assert fine.body["data"]["me"]["id"] == str(alice.entity_id)


def test_without_a_caller_graphql_is_401() -> None:
    from francium.app import handler

    raw = handler(api_event("POST", "/v1/graphql", body={"query": "{ me { id } }"}), FakeContext())
    assert raw["statusCode"] == 401
    assert response_json(raw)["code"] == "unauthorized"


def test_a_page_of_members_with_profiles_reads_the_profiles_in_one_batch(
    stack: StreamDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a group of 30 members
    owner = person(stack)
    group = new_group(stack, owner)
    for _ in range(29):
        add(stack, group["id"], owner, person(stack))
    calls = {"get": 0, "batch": 0}
    real_get, real_batch = cache.get, cache.batch_get

    def counting_get(*args: object, **kwargs: object) -> object:
        calls["get"] += 1
        return real_get(*args, **kwargs)  # type: ignore[arg-type]

    def counting_batch(*args: object, **kwargs: object) -> object:
        calls["batch"] += 1
        return real_batch(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(cache, "get", counting_get)
    monkeypatch.setattr(cache, "batch_get", counting_batch)

    # When the owner reads the members with their profiles
    answer = graphql(owner, MEMBERS_WITH_PROFILES, {"id": group["id"]})

    # Then every profile is there, read in one batch (the group and membership are two GetItems)
    edges = answer.body["data"]["group"]["members"]["edges"]
    assert len(edges) == 30
    assert all(e["node"]["entity"]["handle"] for e in edges)
    assert calls == {"get": 2, "batch": 1}


def test_an_unexpected_failure_is_internal_error_without_internals(
    stack: StreamDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a caller and a read view that breaks unexpectedly
    from francium.views import entities

    alice = person(stack)

    def broken(_: object) -> None:
        raise RuntimeError("secret table name")

    monkeypatch.setattr(entities, "active_entity", broken)

    # When `me` is asked beside a field that works
    answer = graphql(alice, '{ me { id } entityByHandle(handle: "nobody_here") { id } }')

    # Then the failed field is null with internal_error, the rest answers, and nothing leaks
    assert answer.status == 200
    assert answer.body["data"] == {"me": None, "entityByHandle": None}
    assert codes(answer) == ["internal_error"]
    assert "secret" not in json.dumps(answer.body)


def test_a_query_past_its_time_budget_stops_resolving_fields(
    stack: StreamDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a caller in a group, and a time budget already spent when execution starts
    alice = person(stack)
    new_group(stack, alice)
    monkeypatch.setattr("francium.graphql.limits.TIME_BUDGET_SECONDS", -1.0)

    # When a query asks for anything
    answer = graphql(alice, "{ me { id } myGroups { id } }")

    # Then no field is resolved: each fails with operation_failed (the request ran, so 200)
    assert answer.status == 200
    assert answer.body["data"] is None
    assert set(codes(answer)) == {"operation_failed"}
