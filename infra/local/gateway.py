"""The local API Gateway: REST API proxy events, the Lambda TOKEN authorizer and gateway responses."""

from __future__ import annotations

import base64
import json
import time
import traceback
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import h11
from starlette.requests import Request
from starlette.responses import Response
from uvicorn.protocols.http.h11_impl import H11Protocol

from infra.local.metrics import Collector, dashboard
from infra.local.runtime import Runtime
from infra.local.template import Route, Template
from infra.local.websocket import MANAGEMENT_PREFIX, LiveConnections
from infra.local.websocket import PATH as LIVE_PATH
from shared.context import REQUEST_ID_PATTERN

API_ID = "local"
LOCAL_PAGES = ("/local/metrics", "/local/dashboard")  # the local stack's own, not the API's
MAX_HEADER_BYTES = 10_240  # API Gateway's bound on the request line and headers together
STAGE = "local"
ACCOUNT = "000000000000"


def match(routes: list[Route], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    for route in routes:
        if route.method in (method, "ANY"):
            found = route.pattern.match(path)
            if found:
                return route, found.groupdict()
    return None


def multi(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in pairs:
        out.setdefault(key, []).append(value)
    return out


def proxy_event(request: Request, body: bytes, route: Route, params: dict[str, str], request_id: str) -> dict[str, Any]:
    """An API Gateway REST API (v1) proxy integration event, as API Gateway builds it."""
    header_pairs = [(k.title() if k.islower() else k, v) for k, v in request.headers.items()]
    query_pairs = parse_qsl(request.url.query, keep_blank_values=True)
    now = datetime.now(UTC)
    try:
        text, is_b64 = body.decode(), False
    except UnicodeDecodeError:
        text, is_b64 = base64.b64encode(body).decode(), True
    return {
        "resource": route.path,
        "path": request.url.path,
        "httpMethod": request.method,
        "headers": dict(header_pairs) or None,
        "multiValueHeaders": multi(header_pairs) or None,
        "queryStringParameters": dict(query_pairs) or None,
        "multiValueQueryStringParameters": multi(query_pairs) or None,
        "pathParameters": params or None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "local",
            "resourcePath": route.path,
            "httpMethod": request.method,
            "extendedRequestId": request_id,
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "path": f"/{STAGE}{request.url.path}",
            "accountId": ACCOUNT,
            "protocol": "HTTP/1.1",
            "stage": STAGE,
            "domainPrefix": "localhost",
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "requestId": request_id,
            "identity": {
                "sourceIp": request.client.host if request.client else "127.0.0.1",
                "userAgent": request.headers.get("user-agent"),
            },
            "domainName": request.url.hostname,
            "apiId": API_ID,
        },
        "body": text if body else None,
        "isBase64Encoded": is_b64,
    }


class Gateway:
    def __init__(
        self, template: Template, runtime: Runtime, log: Any = print, metrics: Collector | None = None
    ) -> None:
        self.template = template
        self.runtime = runtime
        self.log = log
        self.metrics = metrics
        self.live = LiveConnections(runtime.invoke_concurrently, template.websocket_function)

    def gateway_response(self, kind: str, request_id: str, status: int) -> Response:
        """The template's gateway response of this kind: its status, body and static headers."""
        spec = self.template.gateway_responses.get(kind, {})
        body = spec.get("ResponseTemplates", {}).get("application/json", "")
        headers = {"X-Request-Id": request_id}
        for name, value in spec.get("ResponseParameters", {}).get("Headers", {}).items():
            if str(value).startswith("'") and str(value).endswith("'"):  # a static value, as API Gateway quotes it
                headers[name] = str(value)[1:-1]
        return Response(
            body.replace("$context.requestId", request_id),
            status_code=int(spec.get("StatusCode", status)),
            media_type="application/problem+json",
            headers=headers,
        )

    def invalid(self, detail: str, loc: list[str], request_id: str) -> Response:
        """A 400 of the gateway itself that no template gateway response covers (locally only)."""
        body = {
            "type": "https://errors.elements.dev/invalid_request",
            "title": "Invalid request",
            "status": 400,
            "detail": detail,
            "code": "invalid_request",
            "request_id": request_id,
            "errors": [{"loc": loc, "msg": detail, "type": "value_error"}],
        }
        headers = {"X-Request-Id": request_id}
        return Response(json.dumps(body), status_code=400, media_type="application/problem+json", headers=headers)

    def authorize(self, request: Request, route: Route, request_id: str) -> dict[str, Any] | Response:
        token = request.headers.get("authorization")
        if not token:
            return self.gateway_response("UNAUTHORIZED", request_id, 401)
        method_arn = f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{API_ID}/{STAGE}/{request.method}{request.url.path}"
        try:
            answer = self.runtime.invoke(
                self.template.authorizer_function or "",
                {"type": "TOKEN", "authorizationToken": token, "methodArn": method_arn},
            )
        except Exception as error:  # as API Gateway reads a Lambda authorizer's failure
            if str(error) == "Unauthorized":
                return self.gateway_response("UNAUTHORIZED", request_id, 401)
            return self.gateway_response("AUTHORIZER_FAILURE", request_id, 500)
        statement = answer["policyDocument"]["Statement"][0]
        if statement["Effect"] != "Allow":
            return self.gateway_response("ACCESS_DENIED", request_id, 403)
        return {"principalId": answer["principalId"], **answer.get("context", {})}

    def respond(self, result: dict[str, Any], request_id: str) -> Response:
        headers: dict[str, str] = dict(result.get("headers") or {})
        for key, values in (result.get("multiValueHeaders") or {}).items():
            headers[key] = ", ".join(str(v) for v in values)
        headers.setdefault("X-Request-Id", request_id)
        body = result.get("body") or ""
        raw = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
        return Response(raw, status_code=int(result["statusCode"]), headers=headers)

    def local_page(self, path: str, request_id: str) -> Response:
        """The local stack's own pages: what CloudWatch would show of the functions' metrics."""
        assert self.metrics is not None
        summary = self.metrics.summary()
        headers = {"X-Request-Id": request_id, "Cache-Control": "no-store"}
        if path == "/local/metrics":
            return Response(json.dumps(summary), media_type="application/json", headers=headers)
        return Response(dashboard(summary), media_type="text/html; charset=utf-8", headers=headers)

    async def __call__(self, request: Request) -> Response:
        started = time.perf_counter()
        incoming = request.headers.get("x-request-id")
        request_id = incoming if incoming and REQUEST_ID_PATTERN.fullmatch(incoming) else str(uuid.uuid4())
        body = await request.body()
        response = await self._dispatch(request, body, request_id)
        self.log(
            f"{request.method} {request.url.path} {response.status_code} "
            f"{(time.perf_counter() - started) * 1000:.1f}ms {request_id}"
        )
        return response

    async def _dispatch(self, request: Request, body: bytes, request_id: str) -> Response:
        from starlette.concurrency import run_in_threadpool

        if request.url.path.startswith(MANAGEMENT_PREFIX) and request.headers.get("authorization", "").startswith(
            "AWS4-HMAC-SHA256"
        ):  # the WebSocket API's management API, as a signed AWS client calls it
            return self.live.manage(request.method, request.url.path.removeprefix(MANAGEMENT_PREFIX), body)
        if self.metrics is not None and request.method == "GET" and request.url.path in LOCAL_PAGES:
            return self.local_page(request.url.path, request_id)
        if sum(len(k) + len(v) + 4 for k, v in request.headers.raw) > MAX_HEADER_BYTES:
            return self.invalid("The headers exceed 10,240 bytes.", ["header"], request_id)
        found = match(self.template.routes, request.method, request.url.path)
        if found is None:
            return self.gateway_response("MISSING_AUTHENTICATION_TOKEN", request_id, 404)
        route, params = found
        event = proxy_event(request, body, route, params, request_id)
        if not route.public and self.template.authorizer_function:
            authorized = await run_in_threadpool(self.authorize, request, route, request_id)
            if isinstance(authorized, Response):
                return authorized
            event["requestContext"]["authorizer"] = authorized
        try:
            result = await run_in_threadpool(self.runtime.invoke, route.function, event)
        except Exception:
            traceback.print_exc()
            return self.gateway_response("DEFAULT_5XX", request_id, 502)
        return self.respond(result, request_id)


def create_gateway_app(gateway: Gateway) -> Any:
    """The ASGI app: every request, whatever its method or path (newlines, percent-encoded bytes
    included), goes to the gateway, which answers from the template's routes and gateway responses:
    no web framework routing answers in a shape of its own."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            if scope["path"] == LIVE_PATH:
                await gateway.live.session(scope, receive, send)
            else:
                await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] != "http":  # lifespan is not served here
            return
        try:
            response = await gateway(Request(scope, receive))
        except Exception:  # a bug of the local gateway itself: still the contract's shape
            traceback.print_exc()
            response = gateway.gateway_response("DEFAULT_5XX", str(uuid.uuid4()), 500)
        await response(scope, receive, send)

    return app


class ProblemH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, answering a request it cannot parse (a raw byte outside ASCII
    in the path, headers past h11's size limit) in the contract's shape instead of text/plain."""

    def send_400_response(self, msg: str) -> None:
        request_id = str(uuid.uuid4())
        body = json.dumps(
            {
                "type": "https://errors.elements.dev/invalid_request",
                "title": "Invalid request",
                "status": 400,
                "detail": "The request is not valid HTTP/1.1 (its request line or headers cannot be read, "
                "or the headers are too large).",
                "code": "invalid_request",
                "request_id": request_id,
                "errors": [{"loc": ["request"], "msg": msg, "type": "http_invalid"}],
            }
        ).encode()
        headers = [
            (b"content-type", b"application/problem+json"),
            (b"x-request-id", request_id.encode()),
            (b"connection", b"close"),
        ]
        self.transport.write(self.conn.send(h11.Response(status_code=400, headers=headers, reason=b"Bad Request")))
        self.transport.write(self.conn.send(h11.Data(data=body)))
        self.transport.write(self.conn.send(h11.EndOfMessage()))
        self.transport.close()
