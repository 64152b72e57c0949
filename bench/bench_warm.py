"""The warm path: p50 and p99 of key routes invoked in-process, beside the raw floor of their I/O.

Each route is its element's real handler called with a built API Gateway event (Powertools,
validation, the in-process Fluorine call, the transaction on the benchmark's PostgreSQL, the
change-feed publish to moto's DynamoDB), warm: imports, connections and plans are ready. Its
floor (bench/warm_floors.py) is the same SQL with psycopg and the same DynamoDB calls with boto3
on the same moto, alternated call by call with the route so load on the machine hits both alike.
The ratio is what the code costs over its own I/O; the goal is writes within 1.5x of the floor.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

import psycopg
from pydantic import BaseModel

from bench import warm_floors as floor
from bench.bench_francium import moto_cache
from bench.harness import BenchEnv, Figure, Goal, alternating, sized, summary
from bench.social_seed import project, projected_at_publish
from shared.context import Caller
from shared.internal import Actor
from tests.support.events import FakeContext, api_event

ASSET = "WARM"
PASSWORD = "a benchmark password"  # noqa: S105 - a throwaway benchmark entity
WRITE_GOAL = Goal("ratio_at_most", 1.5, "p50 within 1.5x of the raw floor")
RUNS = sized({"register": 25, "login": 25}, {"register": 2, "login": 2})
DEFAULT_RUNS = sized(150, 3)
MESSAGES = sized(30, 3)
WAIT_FOR_READ_SIDE = frozenset({"register", "login"})


def _call(handler_path: str, expect: int, *args: Any, **kwargs: Any) -> Callable[[], dict[str, Any]]:
    import importlib

    module, _, name = handler_path.rpartition(".")
    handler = getattr(importlib.import_module(module), name)

    def call() -> dict[str, Any]:
        event = api_event(*args, **{k: v() if callable(v) else v for k, v in kwargs.items()})
        answer = handler(event, FakeContext())
        if answer["statusCode"] != expect:
            raise RuntimeError(f"{args}: {answer['statusCode']} {answer['body']}")
        return answer  # type: ignore[no-any-return]

    return call


def _setup() -> tuple[Caller, Caller]:
    """A funded sender and a receiver with MESSAGES messages, signed in, all projected into the read cache."""
    from fluorine import bus
    from shared.contracts.nickel import CreateAsset, IssueAsset
    from shared.contracts.rhenium import SendMessage
    from tests.support.factories import admin_actor, register_entity, start_session

    (sender, first), (receiver, second) = register_entity(), register_entity()
    (me, my_session), (them, their_session) = start_session(sender.id), start_session(receiver.id)
    project(first.records + second.records + my_session.records + their_session.records)
    admin = admin_actor()
    commands: list[tuple[BaseModel, Actor]] = [(CreateAsset(code=ASSET, name="Warm coin", scale=2), admin)]
    commands += [(IssueAsset(id=uuid.uuid4(), asset=ASSET, to=sender.id, amount=10**12), admin)]
    for n in range(MESSAGES):
        commands.append((SendMessage(id=uuid.uuid4(), sender_id=sender.id, to_entity=receiver.id, body=f"m{n}"), me))
    for command, actor in commands:
        project(bus.execute(command.model_dump(mode="json"), actor=actor).records)
    return (
        Caller(entity_id=sender.id, kind="real", session_id=me.session_id),
        Caller(entity_id=receiver.id, kind="real", session_id=them.session_id),
    )


def _login_entity() -> str:
    """The handle of an entity to log in as, projected into the read cache (a login waits for that)."""
    from tests.support.factories import register_entity

    state, registered = register_entity(handle=f"w_{uuid.uuid4().hex[:12]}")
    project(registered.records)
    return state.handle


def _routes(url: str, me: Caller, them: Caller) -> dict[str, tuple[Callable[[], Any], Callable[[], Any]]]:
    from tests.support.factories import PASSWORD as LOGIN_PASSWORD

    conn = psycopg.connect(url, autocommit=True)
    sender, receiver = me.entity_id, them.entity_id
    actor = Actor(entity_id=sender, session_id=me.session_id)
    handle = _login_entity()
    body = {"kind": "real", "display_name": "Warm", "password": PASSWORD}

    def fresh_entity() -> dict[str, str]:
        return {**body, "handle": f"w_{uuid.uuid4().hex[:12]}"}

    wallet = _call("francium.app.handler", 200, "GET", "/v1/wallets/me", caller=me)
    inbox = _call("francium.app.handler", 200, "GET", "/v1/messages/inbox", caller=them)
    return {
        "register": (
            _call("oxygen.app.handler", 201, "POST", "/v1/entities", body=fresh_entity),
            lambda: floor.register(conn),
        ),
        "login": (
            _call(
                "oxygen.app.handler", 200, "POST", "/v1/auth/token", body={"login": handle, "password": LOGIN_PASSWORD}
            ),
            lambda: floor.login(conn, handle, LOGIN_PASSWORD),
        ),
        "transfer": (
            _call(
                "nickel.app.handler",
                201,
                "POST",
                "/v1/transfers",
                body={"to": str(receiver), "asset": ASSET, "amount": 1},
                headers=lambda: {"Idempotency-Key": uuid.uuid4().hex},
                caller=me,
            ),
            lambda: floor.transfer(conn, ASSET, actor, receiver),
        ),
        "send_message": (
            _call(
                "rhenium.app.handler",
                201,
                "POST",
                "/v1/messages",
                body={"to_entity": str(receiver), "body": "hello"},
                caller=me,
            ),
            lambda: floor.send_message(conn, actor, receiver),
        ),
        "get_wallet": (wallet, floor.recorded_calls(wallet)),
        "get_inbox": (inbox, floor.recorded_calls(inbox)),
    }


def run(env: BenchEnv) -> list[Figure]:
    figures: list[Figure] = []
    with moto_cache():
        with projected_at_publish():
            sender, receiver = _setup()
        reads_before = {"get_wallet", "get_inbox"}
        routes = _routes(env.database_url, sender, receiver)
        order = sorted(routes, key=lambda name: name not in reads_before)  # reads while the cache is small
        for name in order:
            route, bare = routes[name]
            runs = RUNS.get(name, DEFAULT_RUNS)
            # Only the routes that wait for the read side (a registration and a login answer once it
            # knows the new entity or session) have their records projected as they publish; the
            # others' projection is the projector's work, on another function, after the answer,
            # and their floors do not project either.
            with projected_at_publish() if name in WAIT_FOR_READ_SIDE else nullcontext():
                ms, base = (summary(s) for s in alternating(route, bare, runs))
            goal = None if name in reads_before else WRITE_GOAL
            note = f"real handler in-process, {runs} runs alternated with the floor"
            figures.append(Figure(f"warm.{name}_p50", ms["p50"], "ms", "raw I/O floor p50", base["p50"], note, goal))
            figures.append(Figure(f"warm.{name}_p99", ms["p99"], "ms", "raw I/O floor p99", base["p99"]))
    return figures
