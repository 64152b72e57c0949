"""Live delivery's own store (a DynamoDB table): single-use tickets and open WebSocket connections.

This is connection state, like API Gateway's own registry of connections, not domain data: it is
not written through Fluorine and not on the change feed. Items:

- ``ticket#<SHA-256 of the ticket>`` / ``ticket``: the entity and the login session it was issued
  to, ``expires_at`` (epoch seconds, also the table's TTL attribute). Redeemed by a conditional
  delete, so it is single use.
- ``entity#<id>`` / ``conn#<connection id>``: an open connection of the entity and its login session
  (all of an entity's connections are one Query), ``expires_at`` two hours on (API Gateway closes a
  connection then).
- ``conn#<connection id>`` / ``entity``: which entity a connection belongs to (for ``$disconnect``),
  and since when the entity exists (``entity_since``, ISO 8601): a platform broadcast's audience is
  then the connections alone, with no read per connected entity.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from botocore.exceptions import ClientError

from shared.aws import dynamodb
from shared.settings import get_settings

TICKET_SECONDS = 60
CONNECTION_SECONDS = 2 * 3600  # API Gateway's longest WebSocket connection


@dataclass(frozen=True)
class Holder:
    """Whose a ticket or a connection is: an entity, in one of its login sessions."""

    entity_id: UUID
    session_id: UUID


def _table() -> str:
    return get_settings().realtime_table


def _ticket_key(ticket: str) -> dict[str, Any]:
    digest = hashlib.sha256(ticket.encode()).hexdigest()
    return {"pk": {"S": f"ticket#{digest}"}, "sk": {"S": "ticket"}}


def _holder_attributes(holder: Holder) -> dict[str, Any]:
    return {"entity_id": {"S": str(holder.entity_id)}, "session_id": {"S": str(holder.session_id)}}


def issue_ticket(holder: Holder, now: float | None = None) -> tuple[str, int]:
    """A new single-use ticket for one connection of ``holder`` and when it expires (epoch s).

    Only its SHA-256 is stored, so the table never holds a usable ticket."""
    ticket = secrets.token_urlsafe(32)
    expires_at = int(now if now is not None else time.time()) + TICKET_SECONDS
    item = {**_ticket_key(ticket), **_holder_attributes(holder), "expires_at": {"N": str(expires_at)}}
    dynamodb().put_item(TableName=_table(), Item=item)
    return ticket, expires_at


def redeem_ticket(ticket: str, now: float | None = None) -> Holder | None:
    """Whom a ticket was issued to, once: a used, expired or unknown ticket is None."""
    moment = int(now if now is not None else time.time())
    try:
        answer = dynamodb().delete_item(
            TableName=_table(),
            Key=_ticket_key(ticket),
            ConditionExpression="attribute_exists(pk) AND expires_at > :now",
            ExpressionAttributeValues={":now": {"N": str(moment)}},
            ReturnValues="ALL_OLD",
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return None
        raise
    found = answer["Attributes"]
    return Holder(UUID(found["entity_id"]["S"]), UUID(found["session_id"]["S"]))


@dataclass(frozen=True)
class Open:
    """An open connection, as a broadcast's audience is found: whose, and since when that entity exists."""

    connection_id: str
    entity_id: UUID
    entity_since: datetime


def open_connection(holder: Holder, connection_id: str, entity_since: datetime, now: float | None = None) -> None:
    expires_at = str(int(now if now is not None else time.time()) + CONNECTION_SECONDS)
    attributes = {**_holder_attributes(holder), "expires_at": {"N": expires_at}}
    client = dynamodb()
    owner = {
        "pk": {"S": f"conn#{connection_id}"},
        "sk": {"S": "entity"},
        "entity_since": {"S": entity_since.isoformat()},
    }
    client.put_item(TableName=_table(), Item={**owner, **attributes})
    client.put_item(
        TableName=_table(),
        Item={"pk": {"S": f"entity#{holder.entity_id}"}, "sk": {"S": f"conn#{connection_id}"}, **attributes},
    )


def close_connection(connection_id: str) -> None:
    """Forget a connection (closed, or gone when a push found it so); nothing if unknown."""
    client = dynamodb()
    owner = client.delete_item(
        TableName=_table(), Key={"pk": {"S": f"conn#{connection_id}"}, "sk": {"S": "entity"}}, ReturnValues="ALL_OLD"
    ).get("Attributes")
    if owner:
        key = {"pk": {"S": f"entity#{owner['entity_id']['S']}"}, "sk": {"S": f"conn#{connection_id}"}}
        client.delete_item(TableName=_table(), Key=key)


def connections_of(entity_id: UUID, session_id: UUID | None = None) -> list[str]:
    """Every open connection of the entity (in that login session only, if given), in one Query
    (paged past 1 MB)."""
    found: list[str] = []
    request: dict[str, Any] = {
        "TableName": _table(),
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :conn)",
        "ExpressionAttributeValues": {":pk": {"S": f"entity#{entity_id}"}, ":conn": {"S": "conn#"}},
        "ConsistentRead": True,
    }
    while True:
        answer = dynamodb().query(**request)
        found += [
            item["sk"]["S"].removeprefix("conn#")
            for item in answer.get("Items", [])
            if session_id is None or item.get("session_id", {}).get("S") == str(session_id)
        ]
        if "LastEvaluatedKey" not in answer:
            return found
        request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


def every_connection() -> Iterator[Open]:
    """Every open connection (a broadcast's audience is whoever is connected)."""
    request: dict[str, Any] = {
        "TableName": _table(),
        "FilterExpression": "sk = :entity",
        "ProjectionExpression": "pk, entity_id, entity_since",
        "ExpressionAttributeValues": {":entity": {"S": "entity"}},
    }
    while True:
        answer = dynamodb().scan(**request)
        for item in answer.get("Items", []):
            since = datetime.fromisoformat(item["entity_since"]["S"])
            yield Open(item["pk"]["S"].removeprefix("conn#"), UUID(item["entity_id"]["S"]), since)
        if "LastEvaluatedKey" not in answer:
            return
        request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
