"""``POST /v1/graphql``: GraphQL over the read side, served by FranciumFunction itself.

Why a route here rather than strawberry's ASGI app behind mangum in its own function: the ASGI
path adds an ASGI server adapter and Starlette-style request plumbing to every cold start, and a
second function has cold starts of its own; here the schema is executed directly
(``execute_sync``), and strawberry is imported only on the first GraphQL request, so the REST
reads' cold start does not pay for it and warm GraphQL calls share the REST function's clients.
"""

from __future__ import annotations

import json

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from shared.context import min_version_of, require_caller

router = Router()
PATH = "/v1/graphql"


@router.post(PATH, summary="GraphQL over the read side", responses={200: {"description": "A GraphQL response"}})
def graphql() -> Response[str]:
    """Body ``{"query", "variables"?, "operationName"?}``; answers ``{"data", "errors"?}`` (see the SDL)."""
    from francium.graphql.execute import run

    event = router.current_event.raw_event
    status, payload = run(router.current_event.decoded_body, require_caller(event), min_version_of(event))
    headers = {"Retry-After": "1"} if status == 503 else None
    return Response(status, "application/json", json.dumps(payload, separators=(",", ":")), headers=headers)
