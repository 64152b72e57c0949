"""The OpenAPI 3.1 document of the whole REST API, merged from every element's resolver.

A build-time tool (``make schemas`` writes schema/openapi.json, which Francium serves as it is), so
no function imports another element's routes. Each element's routes already describe their
parameters, bodies, success status and Idempotency-Key (Powertools builds that from the pydantic
models and ``shared.routes.Writes``); this module adds what is common: the bearer scheme, which
routes are public, the contract's problem+json error responses, GraphQL's request body.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from shared.errors import PROBLEM_CONTENT_TYPE
from shared.validation import MAX_AMOUNT

TITLE = "Elements API"
DESCRIPTION = "Users (Oxygen), messages (Rhenium), wallets (Nickel), groups (Carbon); reads by Francium."
VERSION = "1.0.0"
# Every element's resolver, as ``module:attribute``.
ELEMENT_APPS = ("oxygen.app:app", "francium.app:app", "carbon.app:app", "rhenium.app:app", "nickel.app:app")
PUBLIC_ROUTES = frozenset(
    {
        ("get", "/v1/health"),
        ("get", "/v1/openapi.json"),
        ("get", "/.well-known/jwks.json"),
        ("post", "/v1/entities"),
        ("post", "/v1/auth/token"),
        ("post", "/v1/auth/refresh"),
    }
)
# Errors a route can answer beyond the ones every route can (400, 404, 500, and 401 unless public).
ROUTE_ERRORS: dict[tuple[str, str], frozenset[str]] = {
    ("post", "/v1/entities"): frozenset({"409"}),
    ("post", "/v1/graphql"): frozenset({"503"}),  # X-Min-Version not reached; field errors come in the body
    ("post", "/v1/groups/{group_id}/join"): frozenset({"403", "409"}),
    ("post", "/v1/groups/{group_id}/members"): frozenset({"403", "409"}),
    ("patch", "/v1/groups/{group_id}"): frozenset({"403"}),
    ("delete", "/v1/groups/{group_id}"): frozenset({"403"}),
    ("get", "/v1/groups/{group_id}/members"): frozenset({"403"}),
    ("patch", "/v1/groups/{group_id}/members/{entity_id}"): frozenset({"403", "422"}),
    ("delete", "/v1/groups/{group_id}/members/{entity_id}"): frozenset({"403", "422"}),
    ("post", "/v1/groups/{group_id}/owner"): frozenset({"403"}),
    ("post", "/v1/groups/{group_id}/broadcast"): frozenset({"403"}),
    ("post", "/v1/groups/{group_id}/distribute"): frozenset({"403", "409", "422"}),
    ("post", "/v1/assets"): frozenset({"403", "409"}),
    ("post", "/v1/assets/{code}/issue"): frozenset({"403", "409", "422"}),
    ("post", "/v1/assets/{code}/redeem"): frozenset({"409", "422"}),
    ("post", "/v1/transfers"): frozenset({"409", "422"}),
    ("post", "/v1/transfers/{transfer_id}/reverse"): frozenset({"403", "409", "422"}),
    ("post", "/v1/holds"): frozenset({"409", "422"}),
    ("post", "/v1/holds/{hold_id}/capture"): frozenset({"403", "409", "422"}),
    ("post", "/v1/holds/{hold_id}/void"): frozenset({"409", "422"}),
    ("post", "/v1/messages"): frozenset({"409"}),
    ("post", "/v1/broadcasts"): frozenset({"403"}),
    ("post", "/v1/auth/token"): frozenset({"401", "429"}),
    ("post", "/v1/auth/refresh"): frozenset({"401"}),
    ("patch", "/v1/entities/me"): frozenset({"409", "429"}),
    ("delete", "/v1/entities/me"): frozenset({"503"}),
    ("put", "/v1/entities/{entity_id}/roles"): frozenset({"403"}),
}
READ_ROUTE_ERRORS = frozenset({"503"})  # every GET honours X-Min-Version
NOT_WRITES = frozenset(
    {
        ("post", "/v1/auth/token"),
        ("post", "/v1/auth/refresh"),
        ("post", "/v1/graphql"),
        ("post", "/v1/realtime/tickets"),
    }
)
HEADERS: dict[str, Any] = {
    "X-Request-Id": {
        "description": "The request's id: a valid incoming X-Request-Id echoed, else a new one.",
        "schema": {"type": "string"},
    },
    "X-Write-Version": {
        "description": "Opaque token of this write; send it as X-Min-Version to read your own write.",
        "schema": {"type": "string"},
    },
}
ERROR_STATUSES = {
    "400": "Invalid request (`invalid_request`)",
    "401": "Unauthorized (`unauthorized`)",
    "403": "Forbidden (`forbidden`)",
    "404": "Not found (`not_found` or `endpoint_not_found`)",
    "409": "Conflict (`conflict`)",
    "413": "The body is over 1 MiB (`payload_too_large`)",
    "422": "Refused by a business rule (`operation_failed`)",
    "429": "Too many attempts (`rate_limited`)",
    "500": "Internal error (`internal_error`)",
    "503": "Read side not ready (`not_ready`)",
}
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail", "code", "request_id"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "request_id": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["loc", "msg", "type"],
                "properties": {
                    "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
}


def _resolvers() -> list[Any]:
    apps = []
    for ref in ELEMENT_APPS:
        module, _, attribute = ref.partition(":")
        app = getattr(importlib.import_module(module), attribute)
        _describe_from_docstrings(app)
        apps.append(app)
    return apps


def _describe_from_docstrings(resolver: Any) -> None:
    """Each route's summary and description from its function's docstring (first line, then the rest),
    unless the route gave its own. (Powertools keeps its routes in these two lists.)"""
    for route in resolver._static_routes + resolver._dynamic_routes:
        lines = inspect.cleandoc(route.func.__doc__ or "").splitlines()
        if lines and route.summary is None:
            route.summary = lines[0]
        if len(lines) > 1 and route.description is None:
            route.description = "\n".join(lines[1:]).strip() or None


def _header_parameter(name: str, required: bool, description: str) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 128 if name == "Idempotency-Key" else 8192}
    if name == "Idempotency-Key":
        schema["pattern"] = "^[\\x20-\\x7e]{1,128}$"
    return {"name": name, "in": "header", "required": required, "description": description, "schema": schema}


def _finish_success(method: str, path: str, operation: dict[str, Any]) -> None:
    """Write routes declare their success status and answer (``shared.routes.Writes``): add the headers."""
    responses = operation["responses"]
    if "204" in responses:
        responses["204"].pop("content", None)
    for code, answer in responses.items():
        if code.startswith("2") and "$ref" not in answer:
            headers = answer.setdefault("headers", {})
            headers["X-Request-Id"] = {"$ref": "#/components/headers/X-Request-Id"}
            if method != "get" and (method, path) not in NOT_WRITES and path.startswith("/v1/"):
                headers["X-Write-Version"] = {"$ref": "#/components/headers/X-Write-Version"}


def _finish_parameters(method: str, path: str, operation: dict[str, Any], public: bool) -> None:
    parameters = operation.setdefault("parameters", [])
    names = {str(p.get("name", "")).lower() for p in parameters}
    reads = method == "get" or (method, path) == ("post", "/v1/graphql")
    if reads and not public and "x-min-version" not in names:
        text = "A write's X-Write-Version: the read waits until it reflects that write (else 503 not_ready)."
        parameters.append(_header_parameter("X-Min-Version", False, text))
    if not parameters:
        operation.pop("parameters")


GRAPHQL_REQUEST: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["query"],
                "properties": {
                    "query": {"type": "string", "minLength": 1, "maxLength": 16384},
                    "variables": {"type": ["object", "null"]},
                    "operationName": {"type": ["string", "null"], "maxLength": 200},
                },
            }
        }
    },
}


def _finish_operation(method: str, path: str, operation: dict[str, Any]) -> None:
    if (method, path) == ("post", "/v1/graphql"):  # the route reads its raw body (GraphQL answers in its shape)
        operation["requestBody"] = GRAPHQL_REQUEST
    responses = operation.setdefault("responses", {})
    responses.pop("422", None)  # Powertools' default validation answer; ours is 400
    public = (method, path) in PUBLIC_ROUTES
    # Every signed-in route: 401, and 503 while the read side does not know a fresh login yet.
    wanted = {"400", "404", "500"} | ({"401", "503"} if not public else set())
    wanted |= ROUTE_ERRORS.get((method, path), frozenset())
    if method in ("post", "put", "patch"):
        wanted.add("413")  # a body over 1 MiB
    if method == "get" and path.startswith("/v1/") and not public:
        wanted |= READ_ROUTE_ERRORS
    responses["500"] = {"$ref": "#/components/responses/Problem500"}  # not Powertools' validation shape
    for code in sorted(wanted):
        responses.setdefault(code, {"$ref": f"#/components/responses/Problem{code}"})
    operation["security"] = [] if public else [{"bearerAuth": []}]
    _finish_success(method, path, operation)
    _finish_parameters(method, path, operation, public)


def _integral_bounds(node: Any) -> Any:
    """Integer bounds as integers: Powertools' OpenAPI models hold them as floats, which turns the amount
    bound 2^63-1 into 9.223372036854776e+18 (a different, unrepresentable number)."""
    if isinstance(node, dict):
        fixed = {k: _integral_bounds(v) for k, v in node.items()}
        for bound in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            value = fixed.get(bound)
            if isinstance(value, float) and value.is_integer():
                fixed[bound] = MAX_AMOUNT if value == float(MAX_AMOUNT) else int(value)
        return fixed
    if isinstance(node, list):
        return [_integral_bounds(v) for v in node]
    return node


def document() -> dict[str, Any]:
    """The merged OpenAPI document."""
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for resolver in _resolvers():
        part = resolver.get_openapi_schema(title=TITLE, version=VERSION).model_dump(
            mode="json", by_alias=True, exclude_none=True
        )
        for path, item in part.get("paths", {}).items():
            paths.setdefault(path, {}).update(item)
        schemas.update(part.get("components", {}).get("schemas", {}))
    for path, item in paths.items():
        for method, operation in item.items():
            _finish_operation(method, path, operation)
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas.pop("ResponseValidationError", None)
    schemas["Problem"] = PROBLEM_SCHEMA
    responses = {
        f"Problem{code}": {
            "description": text,
            "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for code, text in ERROR_STATUSES.items()
    }
    bounded: dict[str, Any] = _integral_bounds(
        {
            "openapi": "3.1.0",
            "info": {
                "title": TITLE,
                "version": VERSION,
                "description": DESCRIPTION,
            },
            "paths": dict(sorted(paths.items())),
            "components": {
                "schemas": dict(sorted(schemas.items())),
                "responses": responses,
                "headers": HEADERS,
                "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            },
        }
    )
    return bounded
