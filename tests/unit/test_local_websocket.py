"""The local stack's ``@connections`` management API (infra/local/websocket.py), as a pusher meets it."""

from __future__ import annotations

import json
import time

from infra.local.websocket import CLOSE, OUTBOX_FRAMES, OVERFLOW, POLICY_VIOLATION, Connection, LiveConnections


def opened() -> tuple[LiveConnections, Connection]:
    live = LiveConnections(invoke=lambda name, event: {"statusCode": 200}, function="RealtimeFunction")
    connection = Connection(id="c1", source_ip="127.0.0.2", connected_at=time.time())
    live.open[connection.id] = connection
    return live, connection


def queued(connection: Connection) -> list[object]:
    items = []
    while not connection.outbox.empty():
        items.append(connection.outbox.get_nowait())
    return items


def test_a_post_queues_one_frame_and_get_describes_the_connection() -> None:
    live, connection = opened()
    assert live.manage("POST", "c1", b'{"type":"message"}').status_code == 200
    described = live.manage("GET", "c1", b"")
    assert json.loads(described.body)["identity"] == {"sourceIp": "127.0.0.2"}
    assert queued(connection) == ['{"type":"message"}']


def test_a_client_that_reads_nothing_is_dropped_once_its_outbox_is_full_and_is_gone_since() -> None:
    live, connection = opened()
    for n in range(OUTBOX_FRAMES):
        assert live.manage("POST", "c1", f"frame {n}".encode()).status_code == 200
    overflow = live.manage("POST", "c1", b"one too many")
    assert overflow.status_code == 410
    assert overflow.headers["x-amzn-ErrorType"] == "GoneException"
    # The close replaces the frames it would never read, so it is written first
    assert (queued(connection), connection.close_code) == ([CLOSE], OVERFLOW)
    assert live.manage("POST", "c1", b"later").status_code == 410


def test_delete_closes_as_a_policy_violation_and_unknown_connections_are_gone() -> None:
    live, connection = opened()
    live.manage("POST", "c1", b"pending")
    assert live.manage("DELETE", "c1", b"").status_code == 204
    assert (queued(connection), connection.close_code) == ([CLOSE], POLICY_VIOLATION)
    for method in ("POST", "GET", "DELETE"):
        assert live.manage(method, "c1", b"").status_code == 410
    assert live.manage("PATCH", "c2", b"").status_code == 410
