"""Maintenance for the read side: the latest outbox record of every aggregate, the committed
events whose derived write is missing, and the unread counts against a recount.

``LatestEvents`` is served from the outbox's (aggregate, version) unique index: DISTINCT ON walks it
in key order, and keyset pagination by aggregate keeps every page one index range scan.

``MissingDerivedWrites`` walks the outbox by ``seq`` for the event types an event consumer derives
a write from and answers those whose derived row is not in PostgreSQL although the consumer would
write it now. Two consumers of Rhenium's trigger derive writes:

- ``TransferPosted``: a system message to the recipient, whose id is derived from the transfer's
  (missing only while the recipient is still active: the trigger skips a deactivated one too);
- ``MessageSent`` of a group broadcast: its fan-out (``broadcast_fanouts``, with its copies' events).

See docs/architecture.md, "Derived writes".
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from fluorine.authority import Authority
from fluorine.bus import command_handler
from fluorine.commands.rhenium import move_unread
from fluorine.uow import UnitOfWork
from shared.contracts.changes import ChangeRecord
from shared.contracts.maintenance import (
    LatestEvents,
    LatestEventsPage,
    MissingDerivedWrite,
    MissingDerivedWrites,
    MissingDerivedWritesPage,
    RecountedPage,
    RecountUnread,
    WrongCount,
)
from shared.contracts.nickel import TRANSFER_POSTED, TransferState
from shared.contracts.rhenium import (
    MESSAGE_SENT,
    UNREAD_COUNTED,
    fanout_aggregate,
    message_aggregate,
    transfer_message_id,
    unread_aggregate,
)

LATEST = (
    "SELECT DISTINCT ON (aggregate) seq, aggregate, version, event_type, payload, occurred_at, correlation_id"
    " FROM outbox"
    " WHERE aggregate > %(after)s AND (%(only)s::text IS NULL OR aggregate = %(only)s::text)"
    " ORDER BY aggregate, version DESC LIMIT %(limit)s"
)
DERIVING = (
    "SELECT seq, aggregate, version, event_type, payload, occurred_at, correlation_id FROM outbox"
    " WHERE seq > %(after)s AND event_type = ANY(%(types)s)"
    f" AND (event_type <> '{MESSAGE_SENT}' OR payload->>'to_group' IS NOT NULL)"  # group broadcasts only
    " AND (%(only)s::text IS NULL OR aggregate = %(only)s::text) ORDER BY seq LIMIT %(limit)s"
)

WRITTEN = "SELECT id FROM messages WHERE id = ANY(%s)"
FANNED_OUT = "SELECT message_id FROM broadcast_fanouts WHERE message_id = ANY(%s)"
ACTIVE = "SELECT id FROM entities WHERE id = ANY(%s) AND status = 'active'"


def transfer_message(event: ChangeRecord) -> tuple[UUID, UUID] | None:
    """The system message a ``TransferPosted`` derives: (its id, its recipient), or None (issuer side)."""
    transfer = TransferState.model_validate(event.payload)
    return None if transfer.to is None else (transfer_message_id(transfer.id), transfer.to)


# Event type -> the message its consumer writes for it (each derived write is a message today).
DERIVED_MESSAGES: dict[str, Callable[[ChangeRecord], tuple[UUID, UUID] | None]] = {
    TRANSFER_POSTED: transfer_message,
}


DERIVING_TYPES = [*DERIVED_MESSAGES, MESSAGE_SENT]


def fanouts_missing(uow: UnitOfWork, events: list[ChangeRecord]) -> list[MissingDerivedWrite]:
    """The group broadcasts among ``events`` that were never fanned out."""
    sent = (e for e in events if e.event_type == MESSAGE_SENT)
    broadcasts = {UUID(e.payload["id"]): e for e in sent if e.payload.get("to_group")}
    done = {r[0] for r in uow.execute(FANNED_OUT, (list(broadcasts),))}
    # Named by its first batch's aggregate (a fan-out of more than FANOUT_BATCH members has more).
    missing = {m: e for m, e in broadcasts.items() if m not in done}
    return [MissingDerivedWrite(event=e, derived=fanout_aggregate(m, 0)) for m, e in missing.items()]


def records(rows: list[tuple]) -> list[ChangeRecord]:  # type: ignore[type-arg]
    return [
        ChangeRecord(
            seq=r[0], aggregate=r[1], version=r[2], event_type=r[3], payload=r[4], occurred_at=r[5], correlation_id=r[6]
        )
        for r in rows
    ]


@command_handler(LatestEvents, authority=Authority.SYSTEM)
def latest_events(cmd: LatestEvents, uow: UnitOfWork) -> LatestEventsPage:
    rows = uow.execute(LATEST, {"after": cmd.after or "", "only": cmd.aggregate, "limit": cmd.limit + 1}).fetchall()
    found = records(rows[: cmd.limit])
    more = len(rows) > cmd.limit
    return LatestEventsPage(records=found, next_after=found[-1].aggregate if more else None)


@command_handler(MissingDerivedWrites, authority=Authority.SYSTEM)
def missing_derived_writes(cmd: MissingDerivedWrites, uow: UnitOfWork) -> MissingDerivedWritesPage:
    params = {"after": cmd.after, "types": DERIVING_TYPES, "only": cmd.aggregate, "limit": cmd.limit + 1}
    rows = uow.execute(DERIVING, params).fetchall()
    events = records(rows[: cmd.limit])
    derived = {e.seq: DERIVED_MESSAGES[e.event_type](e) for e in events if e.event_type in DERIVED_MESSAGES}
    wanted = {d for d in derived.values() if d is not None}
    ids, recipients = [i for i, _ in wanted], list({r for _, r in wanted})
    written = {r[0] for r in uow.execute(WRITTEN, (ids,))}
    active = {r[0] for r in uow.execute(ACTIVE, (recipients,))}
    missing = [
        MissingDerivedWrite(event=e, derived=message_aggregate(d[0]))
        for e in events
        if (d := derived.get(e.seq)) is not None and d[0] not in written and d[1] in active
    ]
    missing = sorted([*missing, *fanouts_missing(uow, events)], key=lambda m: m.event.seq)
    more = len(rows) > cmd.limit
    return MissingDerivedWritesPage(checked=len(events), missing=missing, next_after=events[-1].seq if more else None)


# Each of ``%(ids)s``: its unread count as kept (NULL: none kept) and recounted from what is in
# PostgreSQL, the way migration 0026 first counted it: messages to it it has not read, and its
# copies of live groups' broadcasts already fanned out that it has not read. One statement, so
# both sides are read from one snapshot.
RECOUNT = """
    SELECT e.id, c.unread,
      (SELECT count(*) FROM messages m WHERE m.to_entity = e.id
         AND NOT EXISTS (SELECT 1 FROM message_reads r WHERE r.message_id = m.id AND r.entity_id = e.id))
      + (SELECT count(*) FROM fanout_spans s
         JOIN messages m ON m.to_group = s.group_id AND s.joined_at <= m.sent_at
                        AND (s.left_at IS NULL OR s.left_at > m.sent_at)
         JOIN broadcast_fanouts f ON f.message_id = m.id
         JOIN groups g ON g.id = m.to_group AND g.deleted_at IS NULL
         WHERE s.entity_id = e.id
           AND NOT EXISTS (SELECT 1 FROM message_reads r WHERE r.message_id = m.id AND r.entity_id = e.id))
    FROM entities e LEFT JOIN inbox_counts c ON c.entity_id = e.id
    WHERE e.id = ANY(%(ids)s) ORDER BY e.id
"""


@command_handler(RecountUnread, authority=Authority.SYSTEM)
def recount_unread(cmd: RecountUnread, uow: UnitOfWork) -> RecountedPage:
    """A page of entities' unread counts against a recount (``verify``); with ``fix``, each wrong
    one set to its recount and published (``rebuild``). Fixing locks the page's counts first, in
    entity order as every move of them does: a message or read mark committing meanwhile moves
    its count after the fix, from the fixed value."""
    ids = [
        row[0]
        for row in uow.execute(
            "SELECT id FROM entities WHERE %(after)s::uuid IS NULL OR id > %(after)s ORDER BY id LIMIT %(limit)s",
            {"after": cmd.after, "limit": cmd.limit},
        )
    ]
    if cmd.fix and ids:
        uow.execute("SELECT 1 FROM inbox_counts WHERE entity_id = ANY(%s) ORDER BY entity_id FOR UPDATE", (ids,))
    wrong = [
        WrongCount(entity_id=row[0], kept=row[1] or 0, recounted=row[2])
        for row in uow.execute(RECOUNT, {"ids": ids})
        if row[1] != row[2] and not (row[1] is None and row[2] == 0)
    ]
    if cmd.fix:
        for count in move_unread(uow, {w.entity_id: w.recounted - w.kept for w in wrong}):
            uow.emit(unread_aggregate(count.entity_id), count.version, UNREAD_COUNTED, count)
    return RecountedPage(checked=len(ids), wrong=wrong, next_after=ids[-1] if len(ids) == cmd.limit else None)
