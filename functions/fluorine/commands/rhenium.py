"""Rhenium's commands: direct, platform and system messages, a group broadcast's fan-out, and
read state.

A message is one row whatever its audience; read state is one row per (message, reader), so
marking a broadcast read touches nothing of anyone else's. A group broadcast reaches its fanned
members as copies (``fan_out_broadcast``, off the request path: Rhenium's trigger asks for it from
the change feed) and its other members by fan-out on read.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fluorine.authority import Authority
from fluorine.bus import command_handler
from fluorine.uow import UnitOfWork
from shared.contracts.rhenium import (
    BROADCAST_FANNED_OUT,
    FANOUT_BATCH,
    MESSAGE_SENT,
    FanOut,
    FanoutBatch,
    FanOutBroadcast,
    InboxCount,
    LiveAudience,
    MarkRead,
    MessageKey,
    MessageState,
    Readers,
    ReadState,
    SendMessage,
    SendPlatformBroadcast,
    SendSystemMessage,
    fanout_aggregate,
    message_aggregate,
    read_aggregate,
)
from shared.errors import NotFound

MESSAGE_COLUMNS = "id, sender_id, to_entity, to_group, to_all, body, sent_at"


def _covered_sending(row: str) -> str:
    """``row`` (a membership or a fanned span) covered the moment ``m`` was sent: joined at or
    before it, and not left by then."""
    return f"{row}.joined_at <= m.sent_at AND ({row}.left_at IS NULL OR {row}.left_at > m.sent_at)"


# The fanned memberships whose span covered the moment ``m`` was sent: who holds a copy of it.
COVERING_SPANS = f"""
    SELECT {{columns}} FROM fanout_spans s JOIN groups gr ON gr.id = s.group_id AND gr.deleted_at IS NULL
    WHERE s.group_id = m.to_group AND {_covered_sending("s")}
"""
# Whether the entity (``%(entity)s``) holds a copy of ``m``: a fanned span of it covered the sending.
DELIVERED = f"m.to_group IS NOT NULL AND EXISTS ({COVERING_SPANS.format(columns='1')} AND s.entity_id = %(entity)s)"
# Who may see a message: its sender, its direct recipient, a member of its group whose current
# membership covered the moment it was sent or who holds a copy of it (in a live group), or, for a
# platform broadcast, every entity that already existed when it was sent.
VISIBLE_TO = f"""
    m.sender_id = %(entity)s OR m.to_entity = %(entity)s
    OR (m.to_group IS NOT NULL AND EXISTS (
        SELECT 1 FROM group_members g JOIN groups gr ON gr.id = g.group_id AND gr.deleted_at IS NULL
        WHERE g.group_id = m.to_group AND g.entity_id = %(entity)s
          AND {_covered_sending("g")}))
    OR ({DELIVERED})
    OR (m.to_all AND EXISTS (SELECT 1 FROM entities e WHERE e.id = %(entity)s AND e.created_at <= m.sent_at))
"""
# A fan-out's recipients: the fanned memberships whose span covered the moment ``m`` was sent. A
# group deleted since is not left out: reads drop its copies, and the count its broadcast's write
# version was given at sending (``groups.fanned_members``) stays the count of the events it waits for.
AUDIENCE = f"""
    SELECT s.entity_id FROM messages m JOIN fanout_spans s ON s.group_id = m.to_group
    WHERE m.id = %s AND {_covered_sending("s")}
    ORDER BY s.entity_id
"""

# A page of a group broadcast's readers now, in entity order after ``%(after)s``, as ``VISIBLE_TO``'s
# group clauses find them: the current members whose membership covered its sending and the
# holders of a copy of it, in a live group. Each side is read by its primary key's order.
_READERS_FROM = f"""
    (SELECT r.entity_id FROM messages m
       JOIN groups gr ON gr.id = m.to_group AND gr.deleted_at IS NULL
       JOIN {{table}} r ON r.group_id = m.to_group
         AND {_covered_sending("r")}
     WHERE m.id = %(message)s AND (%(after)s::uuid IS NULL OR r.entity_id > %(after)s)
     ORDER BY r.entity_id LIMIT %(limit)s)
"""
READERS = (
    f"{_READERS_FROM.format(table='group_members')} UNION {_READERS_FROM.format(table='fanout_spans')}"
    " ORDER BY 1 LIMIT %(limit)s"
)


def require_active_recipient(uow: UnitOfWork, entity_id: UUID) -> None:
    if uow.execute("SELECT 1 FROM entities WHERE id = %s AND status = 'active'", (entity_id,)).fetchone() is None:
        raise NotFound("The recipient does not exist.")


def insert_message(
    uow: UnitOfWork,
    message_id: UUID,
    sender_id: UUID | None,
    audience: dict[str, Any],
    body: str,
    *,
    if_absent: bool = False,
) -> MessageState:
    """Write one message (``audience``: to_entity, to_group or to_all) and its ``MessageSent`` event.

    ``if_absent``: a message with this id committed meanwhile (by a concurrent writer of the same
    derived id) is answered as it is, and nothing is emitted.
    """
    conflict = " ON CONFLICT (id) DO NOTHING" if if_absent else ""
    state = uow.one(
        MessageState,
        f"INSERT INTO messages (id, sender_id, to_entity, to_group, to_all, body) VALUES (%s, %s, %s, %s, %s, %s)"
        f"{conflict} RETURNING {MESSAGE_COLUMNS}",
        (
            message_id,
            sender_id,
            audience.get("to_entity"),
            audience.get("to_group"),
            bool(audience.get("to_all")),
            body,
        ),
    )
    if state is None:  # if_absent, and it is there now
        return uow.found(MessageState, f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = %s", (message_id,))
    if state.to_entity is not None:
        state.inbox = move_unread(uow, {state.to_entity: 1})[0]
    uow.emit(message_aggregate(state.id), state.version, MESSAGE_SENT, state)
    return state


def move_unread(uow: UnitOfWork, moves: dict[UUID, int]) -> list[InboxCount]:
    """Move the entities' unread counts (``inbox_counts``) by their deltas, in entity order (the
    one order every writer locks them in: no deadlocks); their new counts, in that order."""
    if not moves:
        return []
    entities = sorted(moves)
    rows = uow.execute(
        "INSERT INTO inbox_counts AS c (entity_id, unread, version)"
        " SELECT m.entity_id, m.delta, 1 FROM unnest(%s::uuid[], %s::integer[]) AS m(entity_id, delta)"
        " ORDER BY m.entity_id"
        " ON CONFLICT (entity_id) DO UPDATE SET unread = c.unread + EXCLUDED.unread, version = c.version + 1"
        " RETURNING entity_id, unread, version",
        (entities, [moves[e] for e in entities]),
    ).fetchall()
    return sorted((InboxCount(entity_id=r[0], unread=r[1], version=r[2]) for r in rows), key=lambda c: c.entity_id)


def lock_for_counts(uow: UnitOfWork, message_id: UUID, *, exclusive: bool = False) -> UUID | None:
    """For a group broadcast: its group's row (shared) and then its own (``exclusive``: for its
    fan-out), so that its fan-out, a read mark of it and its group's deletion, which all move the
    unread counts of its copies, take turns. The group's id (None: not a group broadcast)."""
    row = uow.execute("SELECT to_group FROM messages WHERE id = %s", (message_id,)).fetchone()
    if row is None or row[0] is None:
        return None
    uow.execute("SELECT 1 FROM groups WHERE id = %s FOR SHARE", (row[0],))
    uow.execute(f"SELECT 1 FROM messages WHERE id = %s FOR {'UPDATE' if exclusive else 'SHARE'}", (message_id,))
    return row[0]  # type: ignore[no-any-return]


def existing_message(uow: UnitOfWork, message_id: UUID) -> MessageState | None:
    return uow.one(MessageState, f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = %s", (message_id,))


@command_handler(SendMessage, acts_as="sender_id")
def send_message(cmd: SendMessage, uow: UnitOfWork) -> MessageState:
    require_active_recipient(uow, cmd.to_entity)
    return insert_message(uow, cmd.id, cmd.sender_id, {"to_entity": cmd.to_entity}, cmd.body)


@command_handler(SendPlatformBroadcast, authority=Authority.ADMIN, acts_as="sender_id")
def send_platform_broadcast(cmd: SendPlatformBroadcast, uow: UnitOfWork) -> MessageState:
    return insert_message(uow, cmd.id, cmd.sender_id, {"to_all": True}, cmd.body)


@command_handler(SendSystemMessage, authority=Authority.SYSTEM)
def send_system_message(cmd: SendSystemMessage, uow: UnitOfWork) -> MessageState:
    """Written once per id: a repeat (a redelivered trigger, or maintenance re-deriving it while the
    trigger runs) answers the first message and emits nothing."""
    existing = existing_message(uow, cmd.id)
    if existing is not None:
        return existing
    require_active_recipient(uow, cmd.to_entity)
    return insert_message(uow, cmd.id, None, {"to_entity": cmd.to_entity}, cmd.body, if_absent=True)


def fanout_events(recipients: int) -> int:
    """How many ``BroadcastFannedOut`` events a fan-out to ``recipients`` members emits."""
    return -(-recipients // FANOUT_BATCH)


@command_handler(FanOutBroadcast, authority=Authority.SYSTEM)
def fan_out_broadcast(cmd: FanOutBroadcast, uow: UnitOfWork) -> FanOut:
    """Copy a group broadcast to every fanned membership that covered its sending, in events of
    ``FANOUT_BATCH`` recipients, once per message.

    The audience is read from the spans, the memberships' history, so it is exact whenever this
    runs: a member who joins later joined after the message's ``sent_at`` (both are taken under the
    group's lock), and one who leaves meanwhile still covered it. Nothing is locked. The claim row
    makes a second fan-out of the same message (a redelivered record, maintenance re-deriving it
    while the trigger runs) wait for the first's commit and then do nothing.
    """
    lock_for_counts(uow, cmd.message_id, exclusive=True)
    claimed = uow.execute(
        "INSERT INTO broadcast_fanouts (message_id) SELECT id FROM messages WHERE id = %s AND to_group IS NOT NULL"
        " ON CONFLICT (message_id) DO NOTHING RETURNING message_id",
        (cmd.message_id,),
    ).fetchone()
    if claimed is None:
        done = uow.execute(
            "SELECT recipients, batches FROM broadcast_fanouts WHERE message_id = %s", (cmd.message_id,)
        ).fetchone()
        if done is None:
            raise NotFound("No group broadcast has that id.")
        return FanOut(message_id=cmd.message_id, recipients=done[0], batches=done[1], already=True)
    message = uow.found(MessageState, f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = %s", (cmd.message_id,))
    recipients = [row[0] for row in uow.execute(AUDIENCE, (cmd.message_id,))]
    counted = {c.entity_id: c for c in move_unread(uow, dict.fromkeys(unread_copies(uow, message, recipients), 1))}
    batches = [recipients[n * FANOUT_BATCH : (n + 1) * FANOUT_BATCH] for n in range(fanout_events(len(recipients)))]
    for number, batch in enumerate(batches):
        counts = [counted[r] for r in batch if r in counted]
        copies = FanoutBatch(message=message, batch=number, recipients=batch, counts=counts)
        uow.emit(fanout_aggregate(message.id, number), copies.version, BROADCAST_FANNED_OUT, copies)
    uow.execute(
        "UPDATE broadcast_fanouts SET recipients = %s, batches = %s WHERE message_id = %s",
        (len(recipients), len(batches), message.id),
    )
    return FanOut(message_id=message.id, recipients=len(recipients), batches=len(batches))


@command_handler(LiveAudience, authority=Authority.SYSTEM)
def live_audience(cmd: LiveAudience, uow: UnitOfWork) -> Readers:
    """A page of a group broadcast's readers, for its live push (``rhenium.live``). Read where
    joins and leaves are written, not from the read cache, which may not have seen a join yet.
    Nothing is locked: the trigger asks after the message committed, and a join committed since
    came after its sending (both take the group's lock), so it is rightly left out."""
    params = {"message": cmd.message_id, "after": cmd.after, "limit": cmd.limit + 1}
    found = [row[0] for row in uow.execute(READERS, params)]
    return Readers(entities=found[: cmd.limit], more=len(found) > cmd.limit)


def unread_copies(uow: UnitOfWork, message: MessageState, recipients: list[UUID]) -> list[UUID]:
    """The recipients whose copy of ``message`` counts as unread: none if its group was deleted
    (its copies left every count with it), else those who have not read it already (a member may
    mark a broadcast read by its id before its copy arrives)."""
    live = uow.execute("SELECT 1 FROM groups WHERE id = %s AND deleted_at IS NULL", (message.to_group,)).fetchone()
    if live is None or not recipients:
        return []
    read = {
        row[0]
        for row in uow.execute(
            "SELECT entity_id FROM message_reads WHERE message_id = %s AND entity_id = ANY(%s)",
            (message.id, recipients),
        )
    }
    return [r for r in recipients if r not in read]


@command_handler(MarkRead, acts_as="entity_id")
def mark_read(cmd: MarkRead, uow: UnitOfWork) -> ReadState:
    group = lock_for_counts(uow, cmd.message_id)
    visible = uow.one(
        MessageKey,
        f"SELECT to_entity, to_group, to_all, sent_at, ({DELIVERED}) AS delivered"
        f" FROM messages m WHERE m.id = %(message)s AND ({VISIBLE_TO})",
        {"message": cmd.message_id, "entity": cmd.entity_id},
    )
    if visible is None:
        raise NotFound("The message does not exist.")
    row = uow.execute(
        "INSERT INTO message_reads (message_id, entity_id) VALUES (%s, %s) ON CONFLICT DO NOTHING RETURNING read_at",
        (cmd.message_id, cmd.entity_id),
    ).fetchone()
    if row is None:  # already read: nothing changes
        read_at = uow.execute(
            "SELECT read_at FROM message_reads WHERE message_id = %s AND entity_id = %s",
            (cmd.message_id, cmd.entity_id),
        ).fetchone()[0]  # type: ignore[index]
        state = ReadState(message_id=cmd.message_id, entity_id=cmd.entity_id, read_at=read_at, message=visible)
        uow.left_in_place(read_aggregate(cmd.message_id, cmd.entity_id), state.version)
        return state
    state = ReadState(message_id=cmd.message_id, entity_id=cmd.entity_id, read_at=row[0], message=visible)
    if counted_in_own_inbox(uow, cmd, visible, group):
        state.inbox = move_unread(uow, {cmd.entity_id: -1})[0]
    uow.emit(read_aggregate(cmd.message_id, cmd.entity_id), state.version, "MessageRead", state)
    return state


def counted_in_own_inbox(uow: UnitOfWork, cmd: MarkRead, visible: MessageKey, group: UUID | None) -> bool:
    """Whether the message counted in the reader's unread count: a message to it, or its copy of a
    live group's broadcast already fanned out (before that, the fan-out leaves it out instead)."""
    if visible.to_entity == cmd.entity_id:
        return True
    if group is None or not visible.delivered:
        return False
    found = uow.execute(
        "SELECT 1 FROM broadcast_fanouts f JOIN groups g ON g.id = %s AND g.deleted_at IS NULL WHERE f.message_id = %s",
        (group, cmd.message_id),
    ).fetchone()
    return found is not None
