"""One GraphQL request, from its HTTP body to the status and body to answer.

- A body that is not a GraphQL request (not JSON, no ``query``, ``variables`` not an object, a
  query that does not parse or validate, or one over the depth/alias/token limits) → 400.
- Otherwise 200 with ``data`` and, for fields that failed, ``errors`` — each with
  ``extensions.code`` from the contract's error table (``not_found``, ``forbidden``, ...).
- ``X-Min-Version`` is waited for before anything runs: 503 ``not_ready`` when it is not reached.
"""

from __future__ import annotations

import json
from typing import Any

from graphql import GraphQLError
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from strawberry.schema.exceptions import CannotGetOperationTypeError

from francium.freshness import wait_for
from francium.graphql.context import RequestContext
from francium.graphql.schema import schema
from shared import readcache
from shared.context import Caller
from shared.errors import AppError, InternalError, InvalidRequest, being_restored
from shared.observability import logger

MAX_BODY = 16_384


class GraphQLRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    query: str = Field(min_length=1, max_length=MAX_BODY)
    variables: dict[str, Any] | None = None
    operation_name: str | None = Field(default=None, alias="operationName", max_length=200)


def problem(error: AppError) -> dict[str, Any]:
    extensions: dict[str, Any] = {"code": error.code}
    if error.errors:
        extensions["errors"] = error.errors
    return {"message": error.detail, "extensions": extensions}


def formatted(error: GraphQLError) -> dict[str, Any]:
    original = error.original_error
    if isinstance(original, AppError):
        readcache.answered(original)
        body = problem(original)
    elif isinstance(original, GraphQLError):  # graphql-core's input coercion: the client's value
        body = problem(InvalidRequest(error.message))
    elif original is not None and (restoring := being_restored(original)) is not None:
        body = problem(restoring)
    elif original is not None:
        logger.error("graphql resolver failed", exc_info=original)
        body = problem(InternalError())
    else:  # graphql-core's own: syntax, validation, limits, argument coercion
        body = problem(InvalidRequest(error.message))
    if error.locations:
        body["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if error.path:
        body["path"] = error.path
    return body


def parse_request(body: str | None) -> GraphQLRequest:
    try:
        raw = json.loads(body or "")
    except (ValueError, RecursionError):
        raise InvalidRequest("The body is not JSON.") from None
    try:
        return GraphQLRequest.model_validate(raw)
    except ValidationError as exc:
        raise InvalidRequest("The body is not a GraphQL request ({query, variables?, operationName?}).") from exc


def run(body: str | None, caller: Caller, min_version: str | None) -> tuple[int, dict[str, Any]]:
    """The HTTP status and GraphQL response body for one request."""
    try:
        request = parse_request(body)
        if min_version:
            wait_for(min_version, caller.entity_id)
    except AppError as error:
        readcache.answered(error)
        return error.status, {"errors": [problem(error)]}
    try:
        result = schema.execute_sync(
            request.query,
            variable_values=request.variables,
            operation_name=request.operation_name,
            context_value=RequestContext(caller=caller, operation_name=request.operation_name),
        )
    except CannotGetOperationTypeError:
        return 400, {"errors": [problem(InvalidRequest("operationName names no operation of the query."))]}
    errors = [formatted(e) for e in result.errors or []]
    if result.data is None and errors and all(e.original_error is None for e in result.errors or []):
        return 400, {"errors": errors}  # it never ran: not a valid GraphQL request (syntax, validation, limits)
    payload: dict[str, Any] = {"data": result.data}
    if errors:
        payload["errors"] = errors
    return 200, payload
