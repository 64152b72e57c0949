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
    from infra.openapi import document

    operation = document()["paths"]["/v1/graphql"]["post"]

    # Then 200, 400 and 503 are GraphQL responses, 401 a problem, and the route needs a bearer token
    for status in ("200", "400", "503"):
        schema = operation["responses"][status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/GraphQLResponse"}
    assert operation["responses"]["401"] == {"$ref": "#/components/responses/Problem401"}
    assert operation["security"] == [{"bearerAuth": []}]


def test_rest_reads_do_not_import_strawberry_at_cold_start() -> None:
    # Given a fresh interpreter importing Francium's handler, as a cold start does
    import os
    import subprocess
    import sys

    code = "import francium.app, sys; print('strawberry' in sys.modules, 'graphql' in sys.modules)"

    # When it has imported the app
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)  # noqa: S603

    # Then neither strawberry nor graphql-core is loaded (the GraphQL route imports them on first use)
    assert out.stdout.split() == ["False", "False"], out.stderr
