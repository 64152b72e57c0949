"""The raw floors of bench_warm: the I/O a route does, done directly with psycopg and boto3.

A write's floor is the same SQL statements in the same transaction(s) as Fluorine's command,
then the same conditional PutItem per change record on the change feed and the UPDATE that marks
the outbox rows published; register and login also pay their one Argon2id hash or verification
(deliberate CPU, not overhead), and login the projection of its new session and one strongly
consistent read of the session's and entity's versions (it answers once the read side knows
them). Writes by a caller first check the caller's row and session (``CALLER_ROW``), as Fluorine
does. A read's floor replays the DynamoDB calls the route made, as recorded from the route itself
(``recorded_calls``), so it is the same requests by construction.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
import uuid
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from fluorine.authority import CALLER_ROW
from shared.internal import Actor

Event = tuple[int, str, int, str, dict[str, Any]]
OUTBOX = "INSERT INTO outbox (aggregate, version, event_type, payload) VALUES (%s, %s, %s, %s) RETURNING seq"


def _publish(conn: psycopg.Connection, events: list[Event]) -> None:
    """What the publisher does after commit: one conditional put per record, then mark them."""
    from shared.aws import dynamodb

    client = dynamodb()
    for seq, aggregate, version, event_type, payload in events:
        item = {
            "aggregate": {"S": aggregate},
            "version": {"N": str(version)},
            "event_type": {"S": event_type},
            "payload": {"S": json.dumps(payload, separators=(",", ":"))},
            "seq": {"N": str(seq)},
            "occurred_at": {"S": "2030-01-01T00:00:00+00:00"},
            "expires_at": {"N": str(int(time.time()) + 30 * 24 * 3600)},
        }
        client.put_item(
            TableName="ChangeFeedTable",
            Item=item,
            ConditionExpression="attribute_not_exists(#aggregate)",
            ExpressionAttributeNames={"#aggregate": "aggregate"},
        )
    with conn.transaction():
        conn.execute("UPDATE outbox SET published_at = now() WHERE seq = ANY(%s)", ([e[0] for e in events],))


def _emit(conn: psycopg.Connection, aggregate: str, version: int, event: str, payload: dict[str, Any]) -> Event:
    seq = conn.execute(OUTBOX, (aggregate, version, event, Jsonb(payload))).fetchone()[0]  # type: ignore[index]
    return (seq, aggregate, version, event, payload)


def register(conn: psycopg.Connection) -> None:
    from oxygen.passwords import hash_password

    entity, hashed = uuid.uuid4(), hash_password("a benchmark password")
    with conn.transaction():
        row = conn.execute(
            "INSERT INTO entities (id, kind, handle, display_name, email, password_hash)"
            " VALUES (%s, 'real', %s, 'Floor', NULL, %s) RETURNING id, handle, created_at",
            (entity, f"f_{entity.hex[:20]}", hashed),
        ).fetchone()
        event = _emit(conn, f"entity#{entity}", 1, "EntityRegistered", {"id": str(row[0]), "handle": row[1]})  # type: ignore[index]
    _publish(conn, [event])


def login(conn: psycopg.Connection, handle: str, password: str) -> None:
    from oxygen.passwords import verify_password
    from shared.aws import dynamodb

    with conn.transaction():
        conn.execute(
            "SELECT failed_at FROM login_failures WHERE login_key = %s AND failed_at > now() - interval '15 minutes'"
            " ORDER BY failed_at DESC LIMIT 5",
            (f"handle:{handle}",),
        ).fetchall()
        entity, hashed = conn.execute("SELECT id, password_hash FROM entities WHERE handle = %s", (handle,)).fetchone()  # type: ignore[misc]
    verify_password(password, hashed)
    session = uuid.uuid4()
    with conn.transaction():
        conn.execute("SELECT id, status FROM entities WHERE id = %s", (entity,)).fetchone()
        conn.execute("INSERT INTO auth_sessions (id, entity_id, created_at) VALUES (%s, %s, now())", (session, entity))
        conn.execute(
            "INSERT INTO refresh_tokens (token_hash, session_id, issued_at, expires_at)"
            " VALUES (%s, %s, now(), now() + interval '30 days')",
            (hashlib.sha256(secrets.token_bytes(32)).hexdigest(), session),
        )
        conn.execute("DELETE FROM login_failures WHERE login_key = %s", (f"handle:{handle}",))
        payload = {"id": str(session), "entity_id": str(entity), "revoked": False, "version": 1}
        event = _emit(conn, f"session#{session}", 1, "SessionStarted", payload)
    _publish(conn, [event])
    # The session's projection (the read cache's conditional put), then the login's wait: one
    # strongly consistent read of the session's and the entity's versions.
    item = {"pk": {"S": f"session#{session}"}, "sk": {"S": "state"}, "ver": {"N": "1"}}
    dynamodb().put_item(
        TableName="ReadCacheTable",
        Item={**item, "data": {"S": json.dumps(payload)}},
        ConditionExpression="attribute_not_exists(ver) OR NOT attribute_type(ver, :n) OR ver < :ver",
        ExpressionAttributeValues={":ver": {"N": "1"}, ":n": {"S": "N"}},
    )
    keys = [{"pk": {"S": f"entity#{entity}"}, "sk": {"S": "state"}}, {"pk": item["pk"], "sk": item["sk"]}]
    dynamodb().batch_get_item(
        RequestItems={"ReadCacheTable": {"Keys": keys, "ConsistentRead": True, "ProjectionExpression": "pk, ver"}}
    )


def send_message(conn: psycopg.Connection, sender: Actor, to: uuid.UUID) -> None:
    message = uuid.uuid4()
    with conn.transaction():
        conn.execute(CALLER_ROW, (sender.session_id, sender.entity_id)).fetchone()
        conn.execute("SELECT 1 FROM entities WHERE id = %s AND status = 'active'", (to,)).fetchone()
        row = conn.execute(
            "INSERT INTO messages (id, sender_id, to_entity, to_group, to_all, body)"
            " VALUES (%s, %s, %s, NULL, false, %s) RETURNING id, sent_at",
            (message, sender.entity_id, to, "hello"),
        ).fetchone()
        event = _emit(conn, f"message#{message}", 1, "MessageSent", {"id": str(row[0]), "body": "hello"})  # type: ignore[index]
    _publish(conn, [event])


def transfer(conn: psycopg.Connection, asset: str, actor: Actor, receiver: uuid.UUID) -> None:
    """``PostTransfer``'s one statement: the caller check gating the posting function (key claim,
    checks, locks, journal row, three outbox rows, the key's answer: 0021, 0023), autocommit; then
    its records."""
    from fluorine.commands.nickel_ledger import GATED, POST_ONE_CALL

    key, transfer_id, sender = uuid.uuid4().hex, uuid.uuid4(), actor.entity_id
    claim = (str(sender), key, "floor", "post_transfer")
    params = (actor.session_id, sender, False, "transfer", transfer_id, asset, sender, receiver, 1, None, *claim, None)
    previous, conn.autocommit = conn.autocommit, True
    try:
        answer = conn.execute(GATED.format(call=POST_ONE_CALL), params).fetchone()[0]  # type: ignore[index]
    finally:
        conn.autocommit = previous
    events: list[Event] = [
        (r["seq"], r["aggregate"], r["version"], r["event_type"], r["payload"]) for r in answer["records"]
    ]
    _publish(conn, events)


def recorded_calls(route: Callable[[], Any]) -> Callable[[], None]:
    """The DynamoDB calls ``route`` makes, recorded once, as a function that replays them raw."""
    from shared.aws import dynamodb

    client, calls = dynamodb(), []
    original = client._make_api_call

    def recording(operation: str, params: dict[str, Any]) -> Any:
        calls.append((operation, params))
        return original(operation, params)

    client._make_api_call = recording
    try:
        route()
    finally:
        client._make_api_call = original

    def replay() -> None:
        for operation, params in calls:
            original(operation, params)

    return replay
