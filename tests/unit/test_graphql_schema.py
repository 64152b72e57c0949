"""The committed GraphQL SDL matches the code, and the schema's guards are in place."""

from __future__ import annotations

from francium.graphql.export import SDL_PATH, sdl


def test_committed_sdl_is_exactly_what_the_code_exports() -> None:
    # Given the SDL file committed under schema/graphql
    committed = SDL_PATH.read_text(encoding="utf-8")

    # When the schema is exported from the code
    exported = sdl()

    # Then they are the same (run `make schemas` after changing the schema)
    assert committed == exported, "schema/graphql/schema.graphql is stale: run `make schemas`"


def test_sdl_has_the_contract_queries_in_camel_case_with_relay_connections() -> None:
    # Given the exported SDL
    text = sdl()

    # Then the contract's queries and Relay shapes are there, camelCase
    for needle in (
        "me: Entity",
        "entity(id: ID!): Profile",
        "entityByHandle(handle: String!): Profile",
        "group(id: ID!): Group",
        "myGroups(",
        "inbox(",
        "pageInfo: PageInfo!",
        "hasNextPage: Boolean!",
        "endCursor: String",
        "displayName: String!",
        "assets(",
        "asset(code: String!): Asset",
        "wallet: Wallet!",
        "balances: [Balance!]!",
        "transfers(",
        "amount: Amount!",
    ):
        assert needle in text, needle
    assert "display_name" not in text


def test_the_openapi_document_describes_post_graphql_with_graphql_shaped_answers() -> None:
    # Given the merged OpenAPI document
    from shared.openapi import document

    operation = document()["paths"]["/v1/graphql"]["post"]

    # Then 200, 400 and 503 are GraphQL responses, 401 a problem, and the route needs a bearer token
    for status in ("200", "400", "503"):
        schema = operation["responses"][status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/GraphQLResponse"}
    assert operation["responses"]["401"] == {"$ref": "#/components/responses/Problem401"}
    assert operation["security"] == [{"bearerAuth": []}]
