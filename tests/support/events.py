"""Real-shaped Lambda events for tests: API Gateway REST proxy, authorizer, DynamoDB stream."""

from __future__ import annotations

import json
import uuid
from typing import Any

from shared.context import Caller


def api_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    caller: Caller | None = None,
    resource: str | None = None,
) -> dict[str, Any]:
    """An API Gateway REST API proxy event, as the gateway sends it after the authorizer."""
    raw_body = body if isinstance(body, str) or body is None else json.dumps(body)
    headers = {"Content-Type": "application/json", **(headers or {})}
    authorizer = None
    if caller is not None:
        authorizer = {
            "principalId": str(caller.entity_id),
            "entity_id": str(caller.entity_id),
            "kind": caller.kind,
            "roles": ",".join(sorted(caller.roles)),
        }
        if caller.session_id is not None:
            authorizer["session_id"] = str(caller.session_id)
        if caller.registered_at is not None:
            authorizer["registered_at"] = caller.registered_at.isoformat()
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()} or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "stage": "test",
            "httpMethod": method,
            "path": f"/test{path}",
            "resourcePath": resource or path,
            "identity": {"sourceIp": "127.0.0.1"},
            "authorizer": authorizer,
        },
        "body": raw_body,
        "isBase64Encoded": False,
    }


def response_json(response: dict[str, Any]) -> Any:
    return json.loads(response["body"]) if response.get("body") else None


def response_header(response: dict[str, Any], name: str) -> str | None:
    for key, values in (response.get("multiValueHeaders") or {}).items():
        if key.lower() == name.lower():
            return str(values[0])
    for key, value in (response.get("headers") or {}).items():
        if key.lower() == name.lower():
            return str(value)
    return None


class FakeContext:
    function_name = "test"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:test"
    aws_request_id = "test-request"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


def websocket_event(
    route: str, connection_id: str, *, query: dict[str, str] | None = None, body: str | None = None
) -> dict[str, Any]:
    """An API Gateway WebSocket API event for ``$connect``, ``$disconnect`` or ``$default``."""
    event_type = {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route, "MESSAGE")
    return {
        "requestContext": {
            "routeKey": route,
            "eventType": event_type,
            "connectionId": connection_id,
            "requestId": str(uuid.uuid4()),
            "stage": "test",
            "apiId": "abcdef1234",
            "domainName": "abcdef1234.execute-api.eu-central-1.amazonaws.com",
            "connectedAt": 1_700_000_000_000,
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "queryStringParameters": query,
        "headers": {"Host": "abcdef1234.execute-api.eu-central-1.amazonaws.com"} if route == "$connect" else None,
        "isBase64Encoded": False,
        **({"body": body} if body is not None else {}),
    }
