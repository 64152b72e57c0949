"""Francium's REST reads: health, self-description and every element's read routes.

Each read honours ``X-Min-Version`` (read-your-writes) before it runs.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from francium.freshness import wait_for
from francium.routes import routers
from francium.routes.graphql import PATH as GRAPHQL_PATH
from shared import snapstart
from shared.auth.keys import write_version_key
from shared.aws import prime_dynamodb
from shared.context import Caller, caller_of, min_version_of
from shared.http import create_app, lambda_handler, prime_request

app = create_app()
OPENAPI_PATH = Path(__file__).with_name("openapi.json")  # a link to schema/openapi.json


def read_your_writes(app_: Any, next_middleware: NextMiddleware) -> Response[Any]:
    """Wait for ``X-Min-Version`` before a read runs (public routes read no caller's data: they ignore it)."""
    event = app_.current_event.raw_event
    token, caller = min_version_of(event), caller_of(event)
    if token and caller and app_.current_event.path != GRAPHQL_PATH:  # GraphQL waits itself, in its own shape
        wait_for(token, caller.entity_id)
    return next_middleware(app_)


app.use(middlewares=[read_your_writes])


@app.get("/v1/health")
def health() -> dict[str, str]:
    """Whether the API answers (public)."""
    return {"status": "ok"}


@app.get("/v1/openapi.json")
def openapi() -> dict[str, Any]:
    """This API's OpenAPI 3.1 document (public)."""
    return openapi_document()


@cache
def openapi_document() -> dict[str, Any]:
    """schema/openapi.json, as ``make schemas`` exported it from every element's routes."""
    return json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


for _router in routers():
    app.include_router(_router)

handler = lambda_handler(app, object_bodies=False)  # GraphQL reads and judges its own body


@snapstart.prime()
def prime() -> None:
    """Every read reads the read cache: its client, and the resolver (an unknown route: no I/O)."""
    prime_dynamodb()
    prime_request(handler, "GET", "/v1/prime")
    write_version_key()  # X-Min-Version's tokens


@snapstart.prime(eager=False)
def prime_graphql() -> None:
    """GraphQL's schema and a parse and run of a small query: before a snapshot only. Without
    SnapStart it is built by the first GraphQL request, which REST reads do not wait for."""
    from francium.graphql.execute import run

    run('{"query": "{ __typename }"}', Caller(entity_id=UUID(int=0), kind="real"), None)
