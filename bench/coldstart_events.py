"""Each function's most common event for bench_coldstart's probes (and the priming test), built
fresh for every probe where the route is single-use (idempotency keys, refresh tokens, tickets).

The most common event: the route most calls take, the authorizer's token check, a change-feed
batch of one record, the sweeper's schedule. Each comes with what its answer must be for the
timing to count (``bench/coldstart_probe.py`` refuses to time a failure).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.coldstart_stage import ASSET, People
from bench.social_seed import project
from shared.context import Caller
from shared.contracts.rhenium import MESSAGE_SENT
from shared.internal import Actor
from tests.support.events import api_event, websocket_event


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
