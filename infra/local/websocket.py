"""The local WebSocket API: API Gateway's WebSocket routes and its ``@connections`` management API.

A client connects to ``ws://127.0.0.1:$PORT/v1/realtime?ticket=...`` (uvicorn runs the WebSocket
protocol, with the ``websockets`` library). As API Gateway does, the gateway invokes the template's
WebSocket function with real-shaped events: ``$connect`` (the handshake is accepted only if it
answers 200, else refused with its status), ``$default`` for every frame the client sends,
``$disconnect`` when it goes. Pushes come back the way they do deployed: the pusher's boto3
``apigatewaymanagementapi`` client posts to ``REALTIME_ENDPOINT`` (this server), ``/@connections/{id}``:
POST sends a frame, DELETE closes the connection (with 1008, policy violation: what Rhenium uses it
for), GET describes it; an unknown connection is 410 ``GoneException``.

Every connection has its own bounded outbox and writer task, so a slow or dead client delays no
one else's frames; one whose outbox overflows is closed (1011) and is gone for the pusher.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

PATH = "/v1/realtime"
MANAGEMENT_PREFIX = "/@connections/"
OUTBOX_FRAMES = 256  # frames a connection may have waiting before it counts as dead
POLICY_VIOLATION = 1008
OVERFLOW = 1011
CLOSE = object()  # the outbox's "close now" marker


@dataclass
class Connection:
    id: str
    source_ip: str
    connected_at: float
    outbox: asyncio.Queue[Any] = field(default_factory=lambda: asyncio.Queue(maxsize=OUTBOX_FRAMES))
    close_code: int = 1000


class LiveConnections:
    """The open connections of this process, and the management API over them."""

    def __init__(self, invoke: Any, function: str | None, stage: str = "local") -> None:
        self.invoke = invoke  # (function name, event) -> answer, as the runtime runs a function
        self.function = function
        self.stage = stage
        self.open: dict[str, Connection] = {}

    def _event(
        self, route: str, connection: Connection, scope: dict[str, Any], body: str | None = None
    ) -> dict[str, Any]:
        query = dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True))
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
        event_type = {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route, "MESSAGE")
        return {
            "requestContext": {
                "routeKey": route,
                "eventType": event_type,
                "connectionId": connection.id,
                "requestId": secrets.token_hex(8),
                "stage": self.stage,
                "apiId": "local-realtime",
                "domainName": headers.get("host", "127.0.0.1"),
                "connectedAt": int(connection.connected_at * 1000),
                "identity": {"sourceIp": connection.source_ip},
            },
            "queryStringParameters": query or None,
            "headers": headers if route == "$connect" else None,
            "body": body,
            "isBase64Encoded": False,
        }

    async def _call(self, route: str, connection: Connection, scope: dict[str, Any], body: str | None = None) -> int:
        if self.function is None:
            return 500
        answer = await run_in_threadpool(self.invoke, self.function, self._event(route, connection, scope, body))
        return int((answer or {}).get("statusCode", 200))

    async def session(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """One client, from its handshake to its last frame."""
        client = scope.get("client") or ("127.0.0.1", 0)
        connection = Connection(id=secrets.token_urlsafe(12), source_ip=str(client[0]), connected_at=time.time())
        if (await receive())["type"] != "websocket.connect":
            return
        status = await self._call("$connect", connection, scope)
        if status != 200:
            await self._refuse(send, status)
            return
        await send({"type": "websocket.accept"})
        self.open[connection.id] = connection
        writer = asyncio.create_task(self._write(connection, send))
        try:
            while True:
                message = await receive()
                if message["type"] == "websocket.disconnect":
                    break
                body = (
                    message.get("text")
                    if message.get("text") is not None
                    else (message.get("bytes") or b"").decode("latin-1")
                )
                await self._call("$default", connection, scope, body)
        finally:
            self.open.pop(connection.id, None)
            writer.cancel()
            await self._call("$disconnect", connection, scope)

    @staticmethod
    async def _refuse(send: Any, status: int) -> None:
        body = json.dumps({"message": "Unauthorized" if status == 401 else "Forbidden"}).encode()
        await send(
            {
                "type": "websocket.http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "websocket.http.response.body", "body": body})

    async def _write(self, connection: Connection, send: Any) -> None:
        while True:
            frame = await connection.outbox.get()
            if frame is CLOSE:
                await send({"type": "websocket.close", "code": connection.close_code})
                return
            await send({"type": "websocket.send", "text": frame})

    def _close(self, connection: Connection, code: int) -> None:
        self.open.pop(connection.id, None)
        connection.close_code = code
        while not connection.outbox.empty():  # frames not written yet never will be: the close goes first
            connection.outbox.get_nowait()
        connection.outbox.put_nowait(CLOSE)

    def manage(self, method: str, connection_id: str, body: bytes) -> Response:
        """The ``@connections`` management API (what ``apigatewaymanagementapi`` calls)."""
        connection = self.open.get(connection_id)
        if connection is None:
            return gone()
        if method == "POST":
            try:
                connection.outbox.put_nowait(body.decode())
            except asyncio.QueueFull:  # it reads nothing: as API Gateway does with a dead client, drop it
                self._close(connection, OVERFLOW)
                return gone()
            return Response(status_code=200)
        if method == "DELETE":
            self._close(connection, POLICY_VIOLATION)
            return Response(status_code=204)
        if method == "GET":
            connected = datetime.fromtimestamp(connection.connected_at, UTC).isoformat()
            info = {"connectedAt": connected, "identity": {"sourceIp": connection.source_ip}}
            return Response(json.dumps(info), media_type="application/json")
        return Response(status_code=405)


def gone() -> Response:
    body = json.dumps({"message": "The connection is gone."})
    return Response(body, status_code=410, media_type="application/json", headers={"x-amzn-ErrorType": "GoneException"})
