"""``POST /v1/graphql``: GraphQL over the read side, served by FranciumFunction itself.

Why a route here rather than strawberry's ASGI app behind mangum in its own function: the ASGI
path adds an ASGI server adapter and Starlette-style request plumbing to every cold start, and a
second function has cold starts of its own; here the schema is executed directly
(``execute_sync``), and strawberry is imported only on the first GraphQL request, so the REST
reads' cold start does not pay for it and warm GraphQL calls share the REST function's clients.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import BaseModel

from shared.context import min_version_of, require_caller

router = Router()
PATH = "/v1/graphql"
DESCRIPTION = (
    'Body `{"query": str, "variables"?: object, "operationName"?: str}`; the schema is '
    "schema/graphql/schema.graphql. Field errors come with 200 in `errors`, each with `extensions.code` "
    "from the error table; a request that cannot run (not JSON, no query, syntax or validation errors, "
    "variables of the wrong type, several operations and no operationName, over the limits: depth 8, "
    "20 aliases, 2,000 tokens, a cost of 10,000 objects, i.e. the product of the `first` arguments along "
    "each path summed over object fields) is 400, before anything is read; an unreached X-Min-Version is "
    "503, both in the same shape. A query that runs past 2 s stops resolving fields (operation_failed)."
)


class GraphQLError(BaseModel):
    message: str
    extensions: dict[str, Any]
    path: list[str | int] | None = None
    locations: list[dict[str, int]] | None = None


class GraphQLResponse(BaseModel):
    data: dict[str, Any] | None = None
    errors: list[GraphQLError] | None = None


def _answer(description: str) -> Any:
    return {"description": description, "content": {"application/json": {"model": GraphQLResponse}}}


RESPONSES = {
    200: _answer("A GraphQL response (`data`, and `errors` for the fields that failed)"),
    400: _answer("Not a GraphQL request that can run (`errors`, code `invalid_request`)"),
    503: _answer("X-Min-Version not reached in time (`errors`, code `not_ready`; Retry-After)"),
}


@router.post(PATH, summary="GraphQL over the read side", description=DESCRIPTION, responses=RESPONSES)
def graphql() -> Response[str]:
    from francium.graphql.execute import run

    event = router.current_event.raw_event
    status, payload = run(router.current_event.decoded_body, require_caller(event), min_version_of(event))
    headers = {"Retry-After": "1"} if status == 503 else None
    return Response(status, "application/json", json.dumps(payload, separators=(",", ":")), headers=headers)
