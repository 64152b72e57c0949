"""The GraphQL request limits checked before anything is read: one operation, typed variables, cost."""

from __future__ import annotations

import json
import uuid

import pytest
from graphql import parse
from graphql.utilities import get_operation_ast

from francium.graphql.execute import run
from francium.graphql.limits import MAX_COST, query_cost
from francium.graphql.schema import schema
from shared.context import Caller

CALLER = Caller(entity_id=uuid.uuid4(), kind="real")
MEMBERS = "members(first: 100) { edges { node { entityId entity { id } } } }"


def cost(query: str, variables: dict[str, object] | None = None) -> int:
    document = parse(query)
    operation = get_operation_ast(document, None)
    assert operation is not None
    return query_cost(schema._schema, document, operation, variables or {})


def refused(body: dict[str, object]) -> list[str]:
    """The messages of a request answered 400 (it never reached a resolver: no read cache here)."""
    status, payload = run(json.dumps(body), CALLER, None)
    assert status == 400, payload
    assert [e["extensions"]["code"] for e in payload["errors"]] == ["invalid_request"]
    return [e["message"] for e in payload["errors"]]


def test_the_cost_is_the_product_of_first_along_each_path_summed_over_object_fields() -> None:
    # A group (1), its connection (100), edges (100), nodes (100), each node's entity (100)
    assert cost("query($id: ID!) { group(id: $id) { name " + MEMBERS + " } }") == 1 + 4 * 100
    # first left out counts as its default: myGroups 100, members 20
    assert cost("{ myGroups { members { edges { node { entityId } } } } }") == 100 + 3 * 100 * 20
    # a variable counts as its value, every alias counts
    assert cost("query($n: Int) { a: myGroups(first: $n) { id } b: myGroups(first: $n) { id } }", {"n": 7}) == 14


def test_fragments_count_where_they_are_spread() -> None:
    query = "fragment F on Group { " + MEMBERS + " } { myGroups(first: 2) { ...F ... on Group { id } } }"
    assert cost(query) == 2 + 4 * 200


def test_the_cost_bomb_is_refused_before_any_read() -> None:
    # Given 20 aliases of myGroups(first:100) x members(first:100) x entity: a 1.8 KB query
    bomb = "{" + " ".join(f"a{i}: myGroups(first: 100) {{ {MEMBERS} }}" for i in range(20)) + "}"
    assert cost(bomb) > MAX_COST
    # When it is sent, Then it is 400 and no resolver ran (none could: there is no read cache here)
    (message,) = refused({"query": bomb})
    assert "over the limit of 10,000" in message


def test_variables_of_the_wrong_type_are_400_not_an_internal_error() -> None:
    (message,) = refused({"query": "query($x: Int) { assets(first: $x) { code } }", "variables": {"x": "abc"}})
    assert "Int cannot represent" in message


def test_several_operations_without_an_operation_name_are_400() -> None:
    refused({"query": "query A { me { id } } query B { me { id } }"})
    refused({"query": "query A { me { id } } query B { me { id } }", "operationName": "C"})


@pytest.mark.parametrize("first", [100, 101])
def test_a_single_list_within_the_bounds_is_not_refused_by_cost(first: int) -> None:
    assert cost(f"{{ myGroups(first: {first}) {{ id }} }}") == first <= MAX_COST
