"""The HTTP edge every element shares: one resolver factory, one error mapping, one handler wrapper.

A route takes validated models and returns a model or a ``Response``; everything else (problem
details, ``X-Request-Id``, correlation ids in logs, body size limit, unknown routes) happens here.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError, ResponseValidationError
from pydantic import BaseModel

from shared import readcache
from shared.context import caller_of, request_id_of
from shared.errors import (
    PROBLEM_CONTENT_TYPE,
    AppError,
    EndpointNotFound,
    InternalError,
    InvalidRequest,
    NotReady,
    PayloadTooLarge,
    being_restored,
    field_errors,
    problem,
)
from shared.internal import Actor, CallContext
from shared.observability import count, invocation, logger

MAX_BODY_BYTES = 1024 * 1024  # 1 MiB: the contract's floor for the body size limit
JSON = "application/json"


def problem_response(app: APIGatewayRestResolver, error: AppError) -> Response[Any]:
    rid = request_id_of(app.current_event.raw_event)
    return Response(error.status, PROBLEM_CONTENT_TYPE, json.dumps(problem(error, rid)), headers=error.headers)


def create_app() -> APIGatewayRestResolver:
    """A REST resolver validating with pydantic and answering errors as problem+json."""
    app = APIGatewayRestResolver(enable_validation=True, response_validation_error_http_code=500)

    @app.exception_handler(AppError)
    def _app_error(error: AppError) -> Response[Any]:
        if isinstance(error, NotReady):  # an expected answer: the client retries; no traceback
            logger.info("read side not ready", extra={"code": error.code, "detail": error.detail})
            readcache.answered(error)  # an unreadable item: repaired by the time the client retries
        elif error.status >= 500:
            logger.exception("request failed", extra={"code": error.code})
        return problem_response(app, error)

    @app.exception_handler(RequestValidationError)
    def _invalid(error: RequestValidationError) -> Response[Any]:
        return problem_response(app, InvalidRequest("The request is not valid.", errors=field_errors(error.errors())))

    @app.exception_handler(ResponseValidationError)
    def _bad_response(error: ResponseValidationError) -> Response[Any]:
        logger.error("response failed its own schema", extra={"errors": field_errors(list(error.errors()))})
        return problem_response(app, InternalError())

    @app.not_found
    def _no_route(_: Exception) -> Response[Any]:
        event = app.current_event
        return problem_response(app, EndpointNotFound(f"No route for {event.http_method} {event.path}."))

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response[Any]:
        restoring = being_restored(error)  # a table recreated and refilled: a retry will do
        if restoring is not None:
            return problem_response(app, restoring)
        logger.exception("unexpected error")
        return problem_response(app, InternalError())

    return app


def json_response(
    status: int, body: BaseModel | dict[str, Any] | None, headers: dict[str, str] | None = None
) -> Response[Any]:
    """A JSON response; ``None`` gives an empty body (204)."""
    if body is None:
        return Response(status, None, "", headers=headers)
    return Response(status, JSON, body, headers=headers)  # serialized (and validated) by the resolver


def written(
    status: int, body: BaseModel | None, write_version: str | None, headers: dict[str, str] | None = None
) -> Response[Any]:
    """The response of a successful write: carries ``X-Write-Version`` for read-your-writes."""
    version = {"X-Write-Version": write_version} if write_version else {}
    return json_response(status, body, {**(headers or {}), **version})


def _add_header(response: dict[str, Any], name: str, value: str) -> None:
    if "multiValueHeaders" in response:
        response["multiValueHeaders"][name] = [value]
    else:
        response.setdefault("headers", {})[name] = value


def as_json_request(event: dict[str, Any]) -> dict[str, Any]:
    """The API speaks only JSON: a body is parsed as JSON whatever Content-Type the client sent."""
    if not event.get("body"):
        return event
    headers = {k: v for k, v in (event.get("headers") or {}).items() if k.lower() != "content-type"}
    multi = {k: v for k, v in (event.get("multiValueHeaders") or {}).items() if k.lower() != "content-type"}
    return {
        **event,
        "headers": {**headers, "Content-Type": JSON},
        "multiValueHeaders": {**multi, "Content-Type": [JSON]},
    }


def _nul_locations(value: Any, loc: list[str | int]) -> list[list[str | int]]:
    if isinstance(value, str):
        return [loc] if "\x00" in value else []
    if isinstance(value, dict):
        return [found for k, v in value.items() for found in _nul_locations(v, [*loc, str(k)])]
    if isinstance(value, list):
        return [found for i, v in enumerate(value) for found in _nul_locations(v, [*loc, i])]
    return []


def refuse_before_routing(event: dict[str, Any]) -> AppError | None:
    """What no route should see: oversized bodies, and NUL characters (no text column can store them)."""
    body = event.get("body") or ""
    if len(body.encode()) > MAX_BODY_BYTES:
        return PayloadTooLarge(f"The body exceeds {MAX_BODY_BYTES} bytes.")
    locations: list[list[str | int]] = []
    for part in ("queryStringParameters", "pathParameters"):
        locations += _nul_locations(event.get(part) or {}, ["query" if part.startswith("query") else "path"])
    if "\x00" in body or "\\u0000" in body:
        try:
            locations += _nul_locations(json.loads(body), ["body"])
        except (ValueError, RecursionError):
            locations.append(["body"])
    if not locations:
        return None
    errors = [{"loc": loc, "msg": "NUL characters are not allowed", "type": "string_nul"} for loc in locations]
    return InvalidRequest("Text must not contain NUL characters.", errors=errors)


def refuse_body(event: dict[str, Any], *, object_only: bool) -> AppError | None:
    """A body no route should see: not UTF-8, nested too deep or with numbers too long to parse
    (the parser fails with something other than a JSON syntax error), or, when ``object_only``, a
    JSON array: Powertools' validation reads a list as its first item (a form-data rule), so
    ``[{...}]`` would otherwise pass as ``{...}``. Malformed JSON is left to the route to answer."""
    raw = event.get("body")
    if not raw:
        return None
    try:
        body = json.loads(base64.b64decode(raw).decode() if event.get("isBase64Encoded") else raw)
    except json.JSONDecodeError:
        return None
    except (ValueError, RecursionError):  # not UTF-8, too deep, a number past the int conversion limit
        errors = [{"loc": ["body"], "msg": "The body is not readable JSON", "type": "json_invalid"}]
        return InvalidRequest("The body is not UTF-8 JSON this API can read.", errors=errors)
    if not (object_only and isinstance(body, list)):
        return None
    errors = [{"loc": ["body"], "msg": "Input should be a valid dictionary or object", "type": "dict_type"}]
    return InvalidRequest("The request is not valid.", errors=errors)


def lambda_handler(
    app: APIGatewayRestResolver, *, object_bodies: bool = True
) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda entry point of an element: correlation ids, size limit, ``X-Request-Id``.

    ``object_bodies=False`` is for an app whose routes read their raw body themselves (GraphQL).
    Bodies are parsed here once more to refuse what would crash the parser in a route.
    """

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        rid = request_id_of(event)
        invocation(context, rid)
        caller = caller_of(event)
        logger.append_keys(caller_id=str(caller.entity_id) if caller else None)
        refused = refuse_before_routing(event) or refuse_body(event, object_only=object_bodies)
        if refused is not None:
            result = {
                "statusCode": refused.status,
                "isBase64Encoded": False,
                "multiValueHeaders": {"Content-Type": [PROBLEM_CONTENT_TYPE]},
                "body": json.dumps(problem(refused, rid)),
            }
        else:
            result = app.resolve(as_json_request(event), context)
        _add_header(result, "X-Request-Id", rid)
        count_answer(result)
        return result

    return handler


def count_answer(result: dict[str, Any]) -> None:
    """``Requests``, and ``ErrorAnswers`` by the contract's code for every problem answered."""
    status = int(result.get("statusCode", 200))
    logger.debug("answered", extra={"status": status})
    count("Requests")
    if status < 400:
        return
    try:
        code = str(json.loads(result.get("body") or "{}").get("code") or "unknown")
    except (ValueError, AttributeError):
        code = "unknown"
    count("ErrorAnswers", code=code)


def context_of(event: dict[str, Any]) -> CallContext:
    """The internal-call context of a REST event: its request id, and its caller as the actor."""
    caller = caller_of(event)
    actor = Actor(entity_id=caller.entity_id, session_id=caller.session_id) if caller else None
    return CallContext(request_id=request_id_of(event), actor=actor)


PRIME_CALLER = "00000000-0000-4000-8000-000000000000"  # no entity: a priming request never reaches a store


def prime_request(
    handler: Callable[[dict[str, Any], Any], dict[str, Any]], method: str, path: str, body: str | None = None
) -> int:
    """Send ``handler`` a request that is answered before any I/O (an invalid body, an unknown
    route): routing, validation, error mapping and serialization get built (for a prime). Its status."""
    headers = {"Content-Type": JSON, "Idempotency-Key": "prime"}
    caller = {"entity_id": PRIME_CALLER, "kind": "real", "roles": "", "session_id": PRIME_CALLER}
    event = {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "requestId": "prime",
            "stage": "prime",
            "httpMethod": method,
            "resourcePath": path,
            "path": path,
            "identity": {"sourceIp": "127.0.0.1"},
            "authorizer": caller,
        },
        "body": body,
        "isBase64Encoded": False,
    }
    return int(handler(event, None)["statusCode"])
