"""What each user action costs, measured through the real handlers: ``python -m bench capacity --measure``.

Every action runs once (after a warm-up run of the same kind) through its element's real handler
in-process, on a migrated PostgreSQL and moto's DynamoDB holding template.yaml's tables, as the
integration tests run them. Two meters run: one over the request itself (the element, its internal
calls to Fluorine and what Fluorine writes), one over what the change feed then causes (Francium's
projector and Rhenium's consumer, driven from the feed's real stream records). The figures are
what the model (``bench/capacity/model.py``) multiplies by the workload: SQL statements, Lambda
invocations, DynamoDB requests and request units per table and per partition-key family, and
change-feed records. Written to bench/capacity_costs.json; the model reads only that file.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.capacity.meter import Meter, metered_into, metering

HERE = Path(__file__).parent
COSTS = HERE.parent / "capacity_costs.json"
GROUP_SIZE = 50  # the measured group's members (a broadcast's request does not grow with it; its copies do)
MEMBER_OF = 3  # groups the inbox reader belongs to (an inbox page reads one partition per group)


@dataclass
class World:
    """The people and things the actions act on, and the stream driver that settles the feed."""

    stack: Any
    admin: Any
    people: list[Any]
    reader: Any
    groups: list[dict[str, Any]]
    asset: str
    tokens: dict[str, Any]
    unread: list[str]  # the reader's unread direct messages, for mark_read


def _call(module: str, method: str, path: str, caller: Any, **kwargs: Any) -> Any:
    from tests.integration.social_support import _call as call

    answer = call(module, method, path, caller, **kwargs)
    assert answer.status < 400, (method, path, answer.status, answer.body)
    return answer


def build_world() -> World:
    from tests.integration.nickel_support import issue, new_asset
    from tests.integration.oxygen_support import login, register
    from tests.integration.social_support import add, new_group, person, rhenium
    from tests.support.streams import StreamDriver

    stack = StreamDriver()
    admin = person(stack, frozenset({"admin"}))
    people = [person(stack) for _ in range(GROUP_SIZE)]
    reader = people[0]
    asset = new_asset(stack, admin, code="CAP", scale=2)["code"]
    for p in people[:4]:
        assert issue(stack, admin, p, 1_000_000, code=asset).status == 201
    groups = []
    for n in range(MEMBER_OF):
        group = new_group(stack, people[1], name=f"Capacity {n}")
        members = people if n == 0 else [reader]  # the reader is in every group, the first has them all
        for p in members:
            if p is not people[1]:  # the owner is a member already
                assert add(stack, group["id"], people[1], p).status == 201
        groups.append(group)
    unread = []
    for n in range(25):  # a full first inbox page: direct messages and broadcasts
        body = {"to_entity": str(reader.entity_id), "body": f"message {n}"}
        unread.append(rhenium(stack, "POST", "/v1/messages", people[2], body=body).body["id"])
    registered = register(stack, handle=f"cap_{uuid.uuid4().hex[:8]}")
    tokens = json.loads(login(registered.handle)["body"])
    stack.settle()
    return World(stack, admin, people, reader, groups, asset, {"pair": tokens, "entity": registered}, unread)


def _key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def actions(world: World) -> dict[str, Callable[[], Any]]:
    """Each user action, as one call through its element's handler."""
    from tests.integration.oxygen_support import PASSWORD, authorize, oxygen

    a, b, reader, admin = world.people[2], world.people[3], world.reader, world.admin
    group = world.groups[0]

    joiners = iter(world.people[4:])

    def login() -> Any:
        answer = oxygen("POST", "/v1/auth/token", body={"login": world.tokens["entity"].handle, "password": PASSWORD})
        assert answer["statusCode"] == 200, answer
        return answer

    def refresh() -> Any:
        answer = oxygen("POST", "/v1/auth/refresh", body={"refresh_token": world.tokens["pair"]["refresh_token"]})
        assert answer["statusCode"] == 200, answer
        world.tokens["pair"] = json.loads(answer["body"])
        return answer

    def hold_and_capture() -> Any:
        placed = _call(
            "nickel.app",
            "POST",
            "/v1/holds",
            a,
            body={"to": str(b.entity_id), "asset": world.asset, "amount": 5},
            headers=_key(),
        )
        return _call("nickel.app", "POST", f"/v1/holds/{placed.body['id']}/capture", b, body={}, headers=_key())

    def mark_read() -> Any:
        # Only the read itself: the inbox page the reader saw the message on is an inbox_page action.
        return _call("rhenium.app", "POST", f"/v1/messages/{world.unread.pop()}/read", reader)

    dashboard = "{ me { handle } wallet { balances { asset amount } } inbox(first: 5) { edges { node { body } } } }"
    return {
        "register": lambda: oxygen(
            "POST",
            "/v1/entities",
            body={"kind": "real", "handle": f"c_{uuid.uuid4().hex[:10]}", "display_name": "C", "password": PASSWORD},
        ),
        "login": login,
        "refresh": refresh,
        "authorize": lambda: authorize(world.tokens["pair"]["access_token"]),
        "get_me": lambda: _call("francium.app", "GET", "/v1/entities/me", reader),
        "get_wallet": lambda: _call("francium.app", "GET", "/v1/wallets/me", a),
        "wallet_history_page": lambda: _call("francium.app", "GET", "/v1/wallets/me/transfers", a),
        "inbox_page": lambda: _call("francium.app", "GET", "/v1/messages/inbox", reader),
        "unread_count": lambda: _call("francium.app", "GET", "/v1/messages/unread-count", reader),
        "graphql_dashboard": lambda: _call("francium.app", "POST", "/v1/graphql", reader, body={"query": dashboard}),
        "transfer": lambda: _call(
            "nickel.app",
            "POST",
            "/v1/transfers",
            a,
            body={"to": str(b.entity_id), "asset": world.asset, "amount": 1},
            headers=_key(),
        ),
        "hold_and_capture": hold_and_capture,
        "send_message": lambda: _call(
            "rhenium.app", "POST", "/v1/messages", a, body={"to_entity": str(reader.entity_id), "body": "hi"}
        ),
        "mark_read": mark_read,
        "group_broadcast": lambda: _call(
            "carbon.app", "POST", f"/v1/groups/{group['id']}/broadcast", world.people[1], body={"body": "news"}
        ),
        "platform_broadcast": lambda: _call(
            "rhenium.app", "POST", "/v1/broadcasts", admin, body={"body": "to everyone"}
        ),
        "create_group": lambda: _call("carbon.app", "POST", "/v1/groups", a, body={"name": f"g{uuid.uuid4().hex[:6]}"}),
        "join_group": lambda: _call("carbon.app", "POST", f"/v1/groups/{world.groups[1]['id']}/join", next(joiners)),
        "realtime_ticket": lambda: _call("rhenium.app", "POST", "/v1/realtime/tickets", reader),
    }


def _counted_internal_calls(meter: Meter) -> Callable[[], None]:
    """Count each internal call (a Lambda invocation deployed) by its target; returns the undo."""
    from shared import internal

    original = internal._send

    def send(target: str, payload: str) -> dict[str, Any]:
        meter.lambda_invocations[target] += 1
        return original(target, payload)

    internal._send = send  # type: ignore[assignment]

    def undo() -> None:
        internal._send = original  # type: ignore[assignment]

    return undo


@contextmanager
def projector_running(world: World, into: Meter | None = None) -> Iterator[None]:
    """The change feed projected while an action runs (a login waits for its session's projection,
    which deployed arrives in a few hundred milliseconds), in a thread whose DynamoDB calls go to
    ``into`` (the change feed's meter), not to the request's."""
    stop = threading.Event()
    world.stack.drain()

    def loop() -> None:
        with metered_into(into):
            while not stop.wait(0.02):
                world.stack.drain()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


WAITS_FOR_THE_READ_SIDE = {"login"}


def measure_action(world: World, name: str, run: Callable[[], Any]) -> dict[str, Any]:
    downstream = Meter()

    def waiting(into: Meter | None = None) -> AbstractContextManager[None]:
        return projector_running(world, into) if name in WAITS_FOR_THE_READ_SIDE else nullcontext()

    with waiting():
        run()  # once unmetered: warm caches, first-use work, a first idempotency key
    world.stack.settle()
    with waiting(into=downstream), metering() as request:
        undo = _counted_internal_calls(request)
        request.lambda_invocations["authorizer" if name == "authorize" else "element"] += 1
        started = time.perf_counter()
        try:
            run()
        finally:
            undo()
        elapsed = time.perf_counter() - started
    with metering(downstream):
        undo = _counted_internal_calls(downstream)
        try:
            given_to_trigger = world.stack.settle()
        finally:
            undo()
    records = sum(r.items for r in request.dynamo if r.table == "ChangeFeedTable" and r.operation == "PutItem")
    return {
        "request": request.summary(),
        "request_ms_local": round(elapsed * 1000, 2),
        "change_feed_records": records,
        "trigger_records": given_to_trigger,
        "downstream": downstream.summary(),
    }


def measure() -> dict[str, Any]:
    from bench.harness import bench_env, quiet_logs
    from tests.support.aws import moto_tables

    with bench_env(), quiet_logs(), moto_tables():
        world = build_world()
        costs = {name: measure_action(world, name, run) for name, run in actions(world).items()}
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False)  # noqa: S607
    return {
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "commit": commit.stdout.strip(),
        "python": platform.python_version(),
        "group_size": GROUP_SIZE,
        "reader_groups": MEMBER_OF,
        "actions": costs,
    }


def main() -> int:
    os.environ.setdefault("BENCH_SMOKE", "")
    costs = measure()
    COSTS.write_text(json.dumps(costs, indent=2, sort_keys=True) + "\n")
    print(f"wrote {COSTS} ({len(costs['actions'])} actions)")
    return 0
