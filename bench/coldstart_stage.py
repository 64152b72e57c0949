"""What bench_coldstart's probes run against: local services, seeded data, and each function's events.

- DynamoDB: moto as a server on 127.0.0.1 (the local stack's), holding template.yaml's tables and the
  reference handler's table: a probe is a separate interpreter, so it reaches it over HTTP, as a
  function reaches DynamoDB.
- Fluorine (and Francium's maintenance function) as Lambda's Invoke API on 127.0.0.1: a probe's
  element calls them with its real boto3 Lambda client, and they answer warm from this process, as a
  deployed Fluorine would (its own cold start is FluorineFunction's probe).
- PostgreSQL: the benchmark's database; every publication is projected at once (no stream lag).

The events themselves are in bench/coldstart_events.py.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.social_seed import project
from shared.context import Caller
from tests.support.events import FakeContext

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
