"""Extraction of the caller and the request's context from an API Gateway REST proxy event."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from pydantic import BaseModel

from shared.errors import InvalidRequest, Unauthorized

REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
IDEMPOTENCY_KEY_PATTERN = re.compile(r"^[\x20-\x7e]{1,128}$")  # printable ASCII: space (0x20) through ~ (0x7e)

EntityKind = Literal["real", "legal", "fictional"]


class Caller(BaseModel):
    """Who is calling, as the authorizer established it."""

    entity_id: UUID
    kind: EntityKind
    roles: frozenset[str] = frozenset()
    session_id: UUID | None = None  # the login session of the access token
    # When the entity registered, as the authorizer read it (it never changes): where its window on
    # platform broadcasts begins. None when not known (a caller made some other way): read the entity.
    registered_at: datetime | None = None

    def has_role(self, role: str) -> bool:
        return role in self.roles


def header(event: dict[str, Any], name: str) -> str | None:
    """A header's value, looked up case-insensitively as HTTP requires (Powertools' event class)."""
    return APIGatewayProxyEvent(event).headers.get(name)


def request_id_of(event: dict[str, Any]) -> str:
    """The incoming ``X-Request-Id`` when it is valid, else API Gateway's own request id."""
    incoming = header(event, "X-Request-Id")
    if incoming and REQUEST_ID_PATTERN.fullmatch(incoming):
        return incoming
    return str((event.get("requestContext") or {}).get("requestId") or "unknown")


def caller_of(event: dict[str, Any]) -> Caller | None:
    """The caller the Lambda authorizer put in the request context, or None on public routes."""
    if "requestContext" not in event:  # not from API Gateway
        return None
    authorizer = APIGatewayProxyEvent(event).request_context.authorizer.raw_event
    entity_id = authorizer.get("entity_id") or authorizer.get("principalId")
    if not entity_id or not authorizer.get("kind"):
        return None
    roles = frozenset(r for r in str(authorizer.get("roles") or "").split(",") if r)
    session = authorizer.get("session_id") or None
    registered = authorizer.get("registered_at") or None
    return Caller(
        entity_id=entity_id, kind=authorizer["kind"], roles=roles, session_id=session, registered_at=registered
    )


def source_address_of(event: dict[str, Any]) -> str:
    """The client's address as API Gateway saw it (locally: the TCP peer); "" if it is not known."""
    try:
        return str(APIGatewayProxyEvent(event).request_context.identity.source_ip or "")[:64]
    except KeyError:  # not from API Gateway
        return ""


def require_caller(event: dict[str, Any]) -> Caller:
    caller = caller_of(event)
    if caller is None:
        raise Unauthorized("A valid bearer token is required.")
    return caller


def idempotency_key_of(event: dict[str, Any], *, required: bool = False) -> str | None:
    """The ``Idempotency-Key`` header, validated (1..128 printable ASCII)."""
    key = header(event, "Idempotency-Key")
    if key is None:
        if required:
            raise InvalidRequest(
                "This route requires an Idempotency-Key header.",
                errors=[{"loc": ["header", "Idempotency-Key"], "msg": "Field required", "type": "missing"}],
            )
        return None
    if not IDEMPOTENCY_KEY_PATTERN.fullmatch(key):
        raise InvalidRequest(
            "Idempotency-Key must be 1 to 128 printable ASCII characters.",
            errors=[{"loc": ["header", "Idempotency-Key"], "msg": "Invalid idempotency key", "type": "value_error"}],
        )
    return key


def min_version_of(event: dict[str, Any]) -> str | None:
    """The ``X-Min-Version`` token a read must reflect, if any."""
    return header(event, "X-Min-Version") or None


def fingerprint(event: dict[str, Any], *parts: object) -> str:
    """A stable digest of the request (method, path, body and any extra parts) for idempotency."""
    import hashlib
    import json

    body = event.get("body") or ""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")) if body else ""
    except ValueError:
        canonical = body
    material = json.dumps([event.get("httpMethod"), event.get("path"), canonical, [str(p) for p in parts]])
    return hashlib.sha256(material.encode()).hexdigest()
