"""The OpenAPI 3.1 document of the whole REST API, merged from every element's resolver.

Each element's routes already describe their parameters and bodies (Powertools builds that from
the pydantic models); this module adds what is common: the bearer scheme, which routes are
public, and the contract's problem+json error responses.
"""

from __future__ import annotations

import importlib
from typing import Any

from shared.errors import PROBLEM_CONTENT_TYPE

TITLE = "Elements API"
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
    ("post", "/v1/messages"): frozenset({"409"}),
    ("post", "/v1/broadcasts"): frozenset({"403"}),
    ("post", "/v1/auth/token"): frozenset({"401", "429"}),
    ("post", "/v1/auth/refresh"): frozenset({"401"}),
    ("patch", "/v1/entities/me"): frozenset({"409", "429"}),
    ("delete", "/v1/entities/me"): frozenset({"503"}),
    ("put", "/v1/entities/{entity_id}/roles"): frozenset({"403"}),
}
READ_ROUTE_ERRORS = frozenset({"503"})  # every GET honours X-Min-Version
ERROR_STATUSES = {
    "400": "Invalid request (`invalid_request`)",
    "401": "Unauthorized (`unauthorized`)",
    "403": "Forbidden (`forbidden`)",
    "404": "Not found (`not_found` or `endpoint_not_found`)",
    "409": "Conflict (`conflict`)",
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
        apps.append(getattr(importlib.import_module(module), attribute))
    return apps


def _finish_operation(method: str, path: str, operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    responses.pop("422", None)  # Powertools' default validation answer; ours is 400
    public = (method, path) in PUBLIC_ROUTES
    wanted = {"400", "404", "500"} | ({"401"} if not public else set())
    wanted |= ROUTE_ERRORS.get((method, path), frozenset())
    if method == "get" and path.startswith("/v1/") and not public:
        wanted |= READ_ROUTE_ERRORS
    for code in sorted(wanted):
        responses.setdefault(code, {"$ref": f"#/components/responses/Problem{code}"})
    operation["security"] = [] if public else [{"bearerAuth": []}]


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
    schemas["Problem"] = PROBLEM_SCHEMA
    responses = {
        f"Problem{code}": {
            "description": text,
            "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for code, text in ERROR_STATUSES.items()
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": TITLE,
            "version": VERSION,
            "description": "Users (Oxygen), messages (Rhenium), wallets (Nickel), groups (Carbon); reads by Francium.",
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "responses": responses,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }
