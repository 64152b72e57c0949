"""Live delivery: a message that enters inboxes is pushed to its readers' open WebSocket connections.

Run by Rhenium's change-feed consumer (never on a request path, and beside, not inside, the
projector). Who gets a message is who would find it in their inbox:

- a direct or system message: its recipient;
- a group broadcast: every connected entity whose membership covered the moment it was sent (in a
  group that still exists), read from the read cache's membership items;
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
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from uuid import UUID

from botocore.exceptions import BotoCoreError, ClientError

from rhenium import connections
from shared.aws import connections_api
from shared.contracts.carbon import GroupState, MemberState, group_aggregate, member_aggregate
from shared.contracts.oxygen import EntityState
from shared.contracts.oxygen_auth import SessionState
from shared.contracts.rhenium import MessageOut, MessageState
from shared.observability import logger
from shared.readcache import STATE, CorruptItem, batch_get, decode, get, index_items, timekey

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


def _members_at(group_id: UUID, sent_at: datetime, candidates: Iterable[UUID]) -> set[UUID]:
    """The candidates whose membership of the group covered ``sent_at``."""
    keys = [(member_aggregate(group_id, entity), STATE) for entity in candidates]
    found = batch_get(keys)
    members = set()
    for data in found.values():
        state = decode(MemberState, data)
        if state.joined_at <= sent_at and (state.left_at is None or state.left_at > sent_at):
            members.add(state.entity_id)
    return members


def _members_joined_by(group_id: UUID, sent_at: datetime) -> list[UUID]:
    """The group's current members who joined by ``sent_at``, from its member list (one query)."""
    joined_by = f"{timekey(sent_at)}#~"  # members#<group> is keyed <joined_at>#<entity>
    items = index_items(f"members#{group_id}", index="gsi1", high=joined_by)
    return [decode(MemberState, item).entity_id for item in items]


def audience(message: MessageState) -> list[str]:
    """The open connections of everyone whose inbox the message enters.

    A group of at most ``SMALL_GROUP`` members: its members' connections, one query each (what a
    group broadcast costs grows with the group, not with everyone connected). A larger group, or
    a platform broadcast: one scan of the open connections, then the members among them.
    """
    if message.to_entity is not None:
        return connections.connections_of(message.to_entity)
    if message.to_group is None:  # a platform broadcast: every entity that existed when it was sent
        return [c.connection_id for c in connections.every_connection() if c.entity_since <= message.sent_at]
    data = get(group_aggregate(message.to_group))
    group = decode(GroupState, data) if data else None
    if group is None or group.deleted:
        return []
    if group.member_count <= SMALL_GROUP:
        members = _members_joined_by(message.to_group, message.sent_at)
        return [c for found in _pushers().map(connections.connections_of, members) for c in found]
    open_now = list(connections.every_connection())
    readers = _members_at(message.to_group, message.sent_at, {c.entity_id for c in open_now})
    return [c.connection_id for c in open_now if c.entity_id in readers]


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
    """Push the message to every open connection of its readers (none if the read cache cannot say
    who they are: the message is in their inboxes all the same, and the record must not fail)."""
    try:
        targets = audience(message)
    except CorruptItem as unreadable:
        logger.warning("live push skipped: unreadable read-cache item", extra={"pk": unreadable.pk})
        return Pushed()
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
