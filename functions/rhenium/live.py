"""Live delivery: a message that enters inboxes is pushed to its readers' open WebSocket connections.

Run by Rhenium's change-feed consumer (never on a request path, and beside, not inside, the
projector). Who gets a message is who would find it in their inbox:

- a direct or system message: its recipient;
- a group broadcast: every connected entity whose membership covered the moment it was sent (in a
  group that still exists), as Fluorine finds them where memberships are written (``LiveAudience``):
  the read cache may not have projected a join that came just before the message;
- a platform broadcast: every connected entity registered before it was sent (the connection
  records when; a deactivated entity's connections are closed, see below), with no read per entity.

A broadcast's audience is found from the open connections, not from the members: no per-member
work for members who are not connected, and none on the request path. Each connection gets one
frame ``{"type": "message", "message": <the message as the inbox shows it>}``, pushed in parallel
with short timeouts (a slow or dead client holds no one else); a connection API Gateway says is
gone is forgotten. Delivery is at least once while connected: a retried record pushes again, and
clients dedupe by the message's id.

A connection lives no longer than what admitted it: when its login session is revoked (a logout, a
password change) or its entity deactivated, ``disconnect`` closes it.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from uuid import UUID

from botocore.exceptions import BotoCoreError, ClientError

from rhenium import connections
from shared import internal
from shared.aws import connections_api
from shared.contracts.oxygen import EntityState
from shared.contracts.oxygen_auth import SessionState
from shared.contracts.rhenium import (
    LIVE_AUDIENCE_PAGE,
    LiveAudience,
    MessageOut,
    MessageState,
    Readers,
)
from shared.observability import logger

# A group broadcast to at most this many members finds its readers' connections member by member
# (a query each, ~1 read unit) instead of scanning every open connection (~1 read unit per 40
# connections): below ~500 members the lookups cost less than a scan once ~20,000 clients are
# connected, and a small group's push no longer grows with everyone connected (docs/capacity.md).
SMALL_GROUP = 500
PUSHERS = 16  # concurrent pushes: bounds how long one batch of frames takes, whatever a client does


@dataclass
class Pushed:
    """What one message's push did: frames sent, connections found gone, pushes that failed."""

    sent: int = 0
    gone: list[str] = field(default_factory=list)
    failed: int = 0


def frame(message: MessageState) -> bytes:
    out = MessageOut.of(message, read=False).model_dump(mode="json", by_alias=True)
    return json.dumps({"type": "message", "message": out}, separators=(",", ":")).encode()


def _readers(message: MessageState, after: UUID | None, limit: int) -> Readers:
    command = LiveAudience(message_id=message.id, after=after, limit=limit)
    return internal.call("fluorine", command, Readers).result


def audience(message: MessageState) -> list[str]:
    """The open connections of everyone whose inbox the message enters.

    A group broadcast's readers are Fluorine's answer (``LiveAudience``), read where joins are
    written: the read cache may not have seen a member who joined just before it was sent. At most
    ``SMALL_GROUP`` readers: their connections, one query each (what the push costs follows the
    group, not everyone connected). More, or a platform broadcast: one scan of the open
    connections, then the readers among them.
    """
    if message.to_entity is not None:
        return connections.connections_of(message.to_entity)
    if message.to_group is None:  # a platform broadcast: every entity that existed when it was sent
        return [c.connection_id for c in connections.every_connection() if c.entity_since <= message.sent_at]
    page = _readers(message, None, SMALL_GROUP)
    if not page.more:
        return [c for found in _pushers().map(connections.connections_of, page.entities) for c in found]
    readers = set(page.entities)
    while page.more:
        page = _readers(message, page.entities[-1], LIVE_AUDIENCE_PAGE)
        readers.update(page.entities)
    return [c.connection_id for c in connections.every_connection() if c.entity_id in readers]


def _push_one(connection_id: str, data: bytes) -> str:
    try:
        connections_api().post_to_connection(ConnectionId=connection_id, Data=data)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "GoneException":
            return "gone"
        logger.warning("live push failed", extra={"code": exc.response["Error"]["Code"]})
        return "failed"
    except BotoCoreError as exc:  # a timeout or a connection error: this client only
        logger.warning("live push failed", extra={"error": type(exc).__name__})
        return "failed"
    return "sent"


@cache
def _pushers() -> ThreadPoolExecutor:
    """Threads kept for the container's life, so each keeps its management API client warm."""
    return ThreadPoolExecutor(max_workers=PUSHERS, thread_name_prefix="live-push")


def push(message: MessageState) -> Pushed:
    """Push the message to every open connection of its readers. Finding them may fail (Fluorine
    unreachable): that raises, and the record is retried."""
    targets = audience(message)
    if not targets:
        return Pushed()
    data = frame(message)
    outcomes = list(_pushers().map(lambda connection: _push_one(connection, data), targets))
    report = Pushed(sent=outcomes.count("sent"), failed=outcomes.count("failed"))
    report.gone = [connection for connection, outcome in zip(targets, outcomes, strict=True) if outcome == "gone"]
    for connection in report.gone:
        connections.close_connection(connection)
    if report.failed:
        logger.warning("live pushes failed", extra={"message_id": str(message.id), "failed": report.failed})
    return report


def _close(connection_id: str) -> None:
    try:
        connections_api().delete_connection(ConnectionId=connection_id)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "GoneException":
            raise
    connections.close_connection(connection_id)


def disconnect(ended: SessionState | EntityState) -> int:
    """Close the connections admitted by a login session now revoked, or of an entity now
    deactivated; how many were closed. Any failure raises, so the record is retried."""
    if isinstance(ended, SessionState):
        targets = connections.connections_of(ended.entity_id, ended.id) if ended.revoked else []
    else:
        targets = connections.connections_of(ended.id) if ended.status != "active" else []
    for connection in targets:
        _close(connection)
    return len(targets)
