"""What bench_coldstart's probes run against: local services, seeded data, and each function's events.

- DynamoDB: moto as a server on 127.0.0.1 (the local stack's), holding template.yaml's tables and the
  reference handler's table: a probe is a separate interpreter, so it reaches it over HTTP, as a
  function reaches DynamoDB.
- Fluorine (and Francium's maintenance function) as Lambda's Invoke API on 127.0.0.1: a probe's
  element calls them with its real boto3 Lambda client, and they answer warm from this process, as a
  deployed Fluorine would (its own cold start is FluorineFunction's probe).
- PostgreSQL: the benchmark's database; every publication is projected at once (no stream lag).

Each function's event is its most common one: the route most calls take, the authorizer's token
check, a change-feed batch of one record. Events are single-use where the route is (idempotency
keys, refresh tokens, tickets), so each probe gets fresh ones.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.social_seed import project
from shared.context import Caller
from shared.contracts.rhenium import MESSAGE_SENT
from shared.internal import Actor
from tests.support.events import FakeContext, api_event, websocket_event

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_TABLE = "reference"
ASSET = "COLD"
LAMBDA_PATH = "/2015-03-31/functions/"


class _Invoke(BaseHTTPRequestHandler):
    """Lambda's Invoke API for the functions a probe calls: answered by their handlers, in-process."""

    def do_POST(self) -> None:
        name = self.path.removeprefix(LAMBDA_PATH).split("/")[0]
        event = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        answer = _local_function(name)(event, FakeContext())
        body = json.dumps(answer).encode()
        asynchronous = self.headers.get("X-Amz-Invocation-Type") == "Event"
        self.send_response(202 if asynchronous else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        pass


def _local_function(name: str) -> Callable[[dict[str, Any], Any], Any]:
    if name == "fluorine":
        from fluorine.app import handler
    elif name == "maintenance":
        from francium.maintenance import handler
    else:
        raise LookupError(f"no local function {name!r}")
    return handler  # type: ignore[no-any-return]


@contextmanager
def services() -> Iterator[dict[str, str]]:
    """moto's DynamoDB server and the Invoke API; the environment a probe runs with."""
    import boto3

    from infra.local import services as local
    from infra.local.template import load
    from shared.aws import reset_clients
    from shared.settings import reset_settings

    endpoint, stop_dynamodb = local.start_dynamodb()
    invoke = ThreadingHTTPServer(("127.0.0.1", 0), _Invoke)
    threading.Thread(target=invoke.serve_forever, daemon=True).start()
    saved = os.environ.get("DYNAMODB_ENDPOINT")
    os.environ["DYNAMODB_ENDPOINT"] = endpoint
    reset_settings()
    reset_clients()
    try:
        local.create_tables(endpoint, load(ROOT / "template.yaml"))
        client = boto3.client("dynamodb", endpoint_url=endpoint)
        client.create_table(
            TableName=REFERENCE_TABLE,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        client.put_item(TableName=REFERENCE_TABLE, Item={"id": {"S": "1"}, "title": {"S": "a todo"}})
        yield {
            "DYNAMODB_ENDPOINT": endpoint,
            "AWS_ENDPOINT_URL_DYNAMODB": endpoint,  # the reference handler's boto3 resource
            "AWS_ENDPOINT_URL_LAMBDA": f"http://127.0.0.1:{invoke.server_address[1]}",
            "INTERNAL_TRANSPORT": "lambda",
            "FLUORINE_FUNCTION": "fluorine",
            "MAINTENANCE_FUNCTION": "maintenance",
            "LOG_LEVEL": "WARNING",
        }
    finally:
        invoke.shutdown()
        stop_dynamodb()
        if saved is None:
            os.environ.pop("DYNAMODB_ENDPOINT", None)
        else:
            os.environ["DYNAMODB_ENDPOINT"] = saved
        reset_settings()
        reset_clients()


@dataclass
class People:
    sender: Caller
    receiver: Caller


def seed() -> People:
    """A funded sender and a receiver, signed in, projected into the read cache."""
    from fluorine import bus
    from shared.contracts.nickel import CreateAsset, IssueAsset
    from tests.support.factories import admin_actor, register_entity, start_session

    (sender, first), (receiver, second) = register_entity(), register_entity()
    (me, my_session), (them, their_session) = start_session(sender.id), start_session(receiver.id)
    project(first.records + second.records + my_session.records + their_session.records)
    admin = admin_actor()
    issue = IssueAsset(id=uuid.uuid4(), asset=ASSET, to=sender.id, amount=10**12)
    for command in (CreateAsset(code=ASSET, name="Cold coin", scale=2), issue):
        project(bus.execute(command.model_dump(mode="json"), actor=admin).records)
    return People(
        Caller(entity_id=sender.id, kind="real", session_id=me.session_id),
        Caller(entity_id=receiver.id, kind="real", session_id=them.session_id),
    )


def _actor(caller: Caller) -> Actor:
    return Actor(entity_id=caller.entity_id, session_id=caller.session_id)


def _message_records(people: People) -> list[dict[str, Any]]:
    """A new message's change records, shaped as the change feed's stream delivers them to Lambda."""
    from fluorine import bus
    from shared.contracts.rhenium import SendMessage

    sender, receiver = people.sender.entity_id, people.receiver.entity_id
    command = SendMessage(id=uuid.uuid4(), sender_id=sender, to_entity=receiver, body="cold")
    outcome = bus.execute(command.model_dump(mode="json"), actor=_actor(people.sender))
    return [_stream_record(r) for r in outcome.records]


def _stream_record(record: Any) -> dict[str, Any]:
    image = {
        "aggregate": {"S": record.aggregate},
        "version": {"N": str(record.version)},
        "event_type": {"S": record.event_type},
        "payload": {"S": json.dumps(record.payload, separators=(",", ":"), default=str)},
        "seq": {"N": str(record.seq)},
        "occurred_at": {"S": record.occurred_at.isoformat()},
        "expires_at": {"N": str(int(time.time()) + 86400)},
    }
    return {
        "eventID": uuid.uuid4().hex,
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "eu-central-1",
        "dynamodb": {
            "ApproximateCreationDateTime": int(time.time()),
            "Keys": {"aggregate": image["aggregate"], "version": image["version"]},
            "NewImage": image,
            "SequenceNumber": str(record.seq),
            "SizeBytes": 256,
            "StreamViewType": "NEW_IMAGE",
        },
        "eventSourceARN": "arn:aws:dynamodb:eu-central-1:000000000000:table/ChangeFeedTable/stream/cold",
    }


def _refresh_token(people: People) -> str:
    """A live session's refresh token (what a login hands out), projected."""
    from fluorine import bus
    from oxygen.sessions import new_refresh_token
    from shared.contracts.oxygen_auth import StartSession

    token, token_hash = new_refresh_token()
    at = datetime.now(UTC)
    command = StartSession(
        session_id=uuid.uuid4(),
        entity_id=people.sender.entity_id,
        refresh_hash=token_hash,
        at=at,
        expires_at=at + timedelta(days=1),
    )
    project(bus.execute(command.model_dump(mode="json")).records)
    return token


def _access_token(people: People) -> str:
    from shared.auth.tokens import issue_access_token

    caller = people.sender
    return issue_access_token(caller.entity_id, "real", [], session_id=str(caller.session_id))[0]


def _ticket(people: People) -> str:
    from rhenium.connections import Holder, issue_ticket

    return issue_ticket(Holder(people.sender.entity_id, people.sender.session_id))[0]  # type: ignore[arg-type]


Event = Callable[[People], dict[str, Any]]
WRITE = {"status": 201}


def _transfer(p: People) -> dict[str, Any]:
    body = {"to": str(p.receiver.entity_id), "asset": ASSET, "amount": 1}
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    return api_event("POST", "/v1/transfers", body=body, headers=headers, caller=p.sender)


def _send(p: People) -> dict[str, Any]:
    body = {"to_entity": str(p.receiver.entity_id), "body": "hello"}
    return api_event("POST", "/v1/messages", body=body, caller=p.sender)


def _group(p: People) -> dict[str, Any]:
    return api_event("POST", "/v1/groups", body={"name": f"g {uuid.uuid4().hex[:8]}"}, caller=p.sender)


def _inbox(p: People) -> dict[str, Any]:
    return api_event("GET", "/v1/messages/inbox", caller=p.receiver)


def _refresh(p: People) -> dict[str, Any]:
    return api_event("POST", "/v1/auth/refresh", body={"refresh_token": _refresh_token(p)})


def _authorize(p: People) -> dict[str, Any]:
    arn = "arn:aws:execute-api:eu-central-1:000000000000:api/test/GET/v1/messages/inbox"
    return {"type": "TOKEN", "authorizationToken": f"Bearer {_access_token(p)}", "methodArn": arn}


def _connect(p: People) -> dict[str, Any]:
    return websocket_event("$connect", uuid.uuid4().hex[:12] + "=", query={"ticket": _ticket(p)})


def _internal_send(p: People) -> dict[str, Any]:
    from shared.contracts.rhenium import SendMessage

    command = SendMessage(id=uuid.uuid4(), sender_id=p.sender.entity_id, to_entity=p.receiver.entity_id, body="hi")
    return {"command": command.model_dump(mode="json"), "context": {"actor": _actor(p.sender).model_dump(mode="json")}}


def _batch(p: People) -> dict[str, Any]:
    records = _message_records(p)
    return {"Records": [r for r in records if r["dynamodb"]["NewImage"]["event_type"]["S"] == MESSAGE_SENT]}


def _schedule(p: People) -> dict[str, Any]:
    """The minute's schedule, with nothing left to publish (the probes' own setup commits records
    without publishing them: a first run would publish them all and a warm one nothing)."""
    from fluorine.db import connection
    from fluorine.sweeper import sweep

    while sweep(connection(), grace_seconds=0):
        pass
    return {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}


def _verify(p: People) -> dict[str, Any]:
    return {"action": "verify", "aggregate": f"entity#{p.sender.entity_id}"}


# Each function's most common event, and what its answer must be for the timing to count.
EVENTS: dict[str, tuple[str, Event, dict[str, Any]]] = {
    "AuthorizerFunction": ("the token check of a valid token", _authorize, {"keys": ["policyDocument"]}),
    "CarbonFunction": ("POST /v1/groups", _group, WRITE),
    "FluorineFunction": ("a send_message command", _internal_send, {"ok": True}),
    "FluorineMigrateFunction": ("a run with nothing to apply", lambda p: {}, {"keys": ["applied"]}),
    "FluorineSweeperFunction": ("the minute's schedule", _schedule, {}),
    "FranciumFunction": ("GET /v1/messages/inbox", _inbox, {"status": 200}),
    "FranciumMaintenanceFunction": ("verify one entity", _verify, {"keys": ["action"]}),
    "FranciumProjectorFunction": ("a batch of one MessageSent record", _batch, {"no_failures": True}),
    "NickelFunction": ("POST /v1/transfers", _transfer, WRITE),
    "OxygenFunction": ("POST /v1/auth/refresh", _refresh, {"status": 200}),
    "RealtimeFunction": ("$connect with a ticket", _connect, {"status": 200}),
    "RheniumFunction": ("POST /v1/messages", _send, WRITE),
    "RheniumTriggerFunction": ("a batch of one MessageSent record", _batch, {"no_failures": True}),
}
REFERENCE_EVENT = api_event("GET", "/todos/1", resource="/todos/{todo_id}")
REFERENCE_EVENT["pathParameters"] = {"todo_id": "1"}
