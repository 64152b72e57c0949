"""Live delivery on the local stack: commit → frame, and a platform broadcast's fan-out.

The stack runs as ``make run`` runs it: a child ``python -m infra.local`` on the benchmark's
database, with its own DynamoDB (found through the stack's record, as ``make verify`` finds it).
Clients are real WebSocket connections from this process (the ``websockets`` library, asyncio),
each admitted by the real ``$connect`` handler with a ticket of its own.

- ``live.commit_to_frame_p50`` / ``_p99``: a direct message's ``sent_at`` (PostgreSQL's clock at
  its transaction, this machine's clock) until the recipient's connection has read its frame: the
  local stream mapping's polling, Rhenium's consumer, the ``@connections`` POST, the socket. The
  floor is the last hop alone: a bare ``@connections`` POST from here until the frame is read.
- ``live.platform_broadcast_<N>_clients_last_frame``: a platform broadcast with N entities
  connected, from its ``sent_at`` until the last of the N connections has read its frame; the
  baseline is the first frame, so the ratio is the fan-out's spread.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from bench.harness import BenchEnv, Figure, Goal, sized, summary
from bench.local_stack import local_stack

CLIENTS = sized(1_000, 10)
SAMPLES = sized(200, 3)
WARMUP = sized(10, 1)
CONNECTING_AT_ONCE = 50
FRAME_TIMEOUT_S = 60.0
GOAL = Goal("value_at_most", 1_000.0, "p99 at most 1 s")
ADMIN = ("bench_live_admin", "bench live admin password")


def _seed(count: int) -> list[tuple[Any, Any]]:
    """``count`` entities, each with a login session, written through Fluorine and published."""
    from fluorine import db
    from fluorine.publisher import publish
    from tests.support.factories import register_entity, start_session

    holders = []
    for _ in range(count):
        state, registered = register_entity()
        actor, session = start_session(state.id)
        publish(db.connection(), [*registered.records, *session.records])
        holders.append((state.id, actor.session_id))
    return holders


def _projected(holders: list[tuple[Any, Any]]) -> None:
    """Wait until the stack's projector has every holder in the read cache ($connect reads them there)."""
    from shared.readcache import token_holder

    deadline = time.monotonic() + 120
    for entity_id, session_id in holders:
        while None in token_holder(entity_id, session_id):
            if time.monotonic() > deadline:
                raise TimeoutError("the stack did not project the seeded entities in 120 s")
            time.sleep(0.05)


def _tickets(holders: list[tuple[Any, Any]]) -> list[str]:
    from rhenium.connections import Holder, issue_ticket

    return [issue_ticket(Holder(entity_id, session_id))[0] for entity_id, session_id in holders]


async def _connect_all(url: str, tickets: list[str]) -> list[ClientConnection]:
    gate = asyncio.Semaphore(CONNECTING_AT_ONCE)

    async def one(ticket: str) -> ClientConnection:
        async with gate:
            return await connect(f"{url}?ticket={ticket}", open_timeout=60, max_queue=None)

    return await asyncio.gather(*(one(t) for t in tickets))


async def _frame_at(socket: ClientConnection) -> tuple[float, dict[str, Any]]:
    """When (wall clock) the next frame was read, and the message it carries."""
    data = await asyncio.wait_for(socket.recv(), FRAME_TIMEOUT_S)
    return time.time(), json.loads(data)["message"]


def _sent_at(message: dict[str, Any]) -> float:
    return datetime.fromisoformat(message["sent_at"]).timestamp()


async def _latency(http: httpx.AsyncClient, admin: dict[str, str], socket: ClientConnection, to: str) -> list[float]:
    samples = []
    for n in range(WARMUP + SAMPLES):
        reading = asyncio.ensure_future(_frame_at(socket))
        sent = await http.post("/v1/messages", json={"to_entity": to, "body": f"sample {n}"}, headers=admin)
        sent.raise_for_status()
        read_at, message = await reading
        assert message["id"] == sent.json()["id"], "a frame of another message"
        if n >= WARMUP:
            samples.append((read_at - _sent_at(message)) * 1000)
    return samples


async def _floor(socket: ClientConnection, connection_id: str) -> list[float]:
    """A bare ``@connections`` POST from this process until the frame is read: the last hop alone."""
    from shared.aws import connections_api

    samples = []
    frame = json.dumps({"type": "message", "message": {"sent_at": "2030-01-01T00:00:00+00:00"}}).encode()
    for n in range(WARMUP + SAMPLES):
        started = time.perf_counter()
        reading = asyncio.ensure_future(socket.recv())
        await asyncio.to_thread(connections_api().post_to_connection, ConnectionId=connection_id, Data=frame)
        await asyncio.wait_for(reading, FRAME_TIMEOUT_S)
        if n >= WARMUP:
            samples.append((time.perf_counter() - started) * 1000)
    return samples


async def _broadcast(http: httpx.AsyncClient, admin: dict[str, str], sockets: list[ClientConnection]) -> list[float]:
    """Milliseconds from the broadcast's ``sent_at`` until each connection read its frame, sorted."""
    reading = [asyncio.ensure_future(_frame_at(s)) for s in sockets]
    sent = await http.post("/v1/broadcasts", json={"body": "to everyone"}, headers=admin)
    sent.raise_for_status()
    frames = await asyncio.gather(*reading)
    assert all(message["id"] == sent.json()["id"] for _, message in frames), "a frame of another message"
    return sorted((read_at - _sent_at(message)) * 1000 for read_at, message in frames)


async def _measure(base: str, holders: list[tuple[Any, Any]]) -> dict[str, Any]:
    from rhenium.connections import connections_of

    ws_url = base.replace("http", "ws", 1) + "/v1/realtime"
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        login = await http.post("/v1/auth/token", json={"login": ADMIN[0], "password": ADMIN[1]})
        login.raise_for_status()
        admin = {"Authorization": f"Bearer {login.json()['access_token']}"}
        started = time.perf_counter()
        sockets = await _connect_all(ws_url, _tickets(holders))
        connect_s = time.perf_counter() - started
        try:
            first, first_entity = sockets[0], str(holders[0][0])
            latency = await _latency(http, admin, first, first_entity)
            (connection_id,) = connections_of(holders[0][0])
            floor = await _floor(first, connection_id)
            fan_out = await _broadcast(http, admin, sockets)
        finally:
            await asyncio.gather(*(s.close() for s in sockets))
    return {"latency": latency, "floor": floor, "fan_out": fan_out, "connect_s": connect_s}


def run(env: BenchEnv) -> list[Figure]:
    with local_stack(env.database_url, ADMIN, "live") as url:
        holders = _seed(CLIENTS)
        _projected(holders)
        measured = asyncio.run(_measure(url, holders))
    latency, floor, fan_out = summary(measured["latency"]), summary(measured["floor"]), measured["fan_out"]
    load = f"{SAMPLES} direct messages, one at a time, to one of {CLIENTS} connected clients"
    hop = f"floor: a bare @connections POST → frame read, p50 {floor['p50']:.1f} ms, p99 {floor['p99']:.1f} ms"
    return [
        Figure(
            "live.commit_to_frame_p50",
            latency["p50"],
            "ms",
            "bare @connections POST → frame p50",
            floor["p50"],
            f"{load}; {hop}",
        ),
        Figure(
            "live.commit_to_frame_p99",
            latency["p99"],
            "ms",
            "bare @connections POST → frame p99",
            floor["p99"],
            f"{load}; {hop}",
            GOAL,
        ),
        Figure(
            f"live.platform_broadcast_{CLIENTS}_clients_last_frame",
            fan_out[-1],
            "ms",
            "first frame",
            fan_out[0],
            f"{CLIENTS} entities each connected once ({measured['connect_s']:.1f} s to connect them all, "
            f"{CONNECTING_AT_ONCE} handshakes at a time); from the broadcast's sent_at; "
            f"median client {fan_out[len(fan_out) // 2]:.0f} ms",
        ),
    ]
