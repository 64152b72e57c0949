"""Maintenance reads for the read side: the latest outbox record of every aggregate.

Served from the outbox's (aggregate, version) unique index: DISTINCT ON walks it in key order,
and keyset pagination by aggregate keeps every page one index range scan.
"""

from __future__ import annotations

from fluorine.authority import Authority
from fluorine.bus import command_handler
from fluorine.uow import UnitOfWork
from shared.contracts.changes import ChangeRecord
from shared.contracts.maintenance import LatestEvents, LatestEventsPage

LATEST = (
    "SELECT DISTINCT ON (aggregate) seq, aggregate, version, event_type, payload, occurred_at FROM outbox"
    " WHERE aggregate > %(after)s AND (%(only)s::text IS NULL OR aggregate = %(only)s::text)"
    " ORDER BY aggregate, version DESC LIMIT %(limit)s"
)


@command_handler(LatestEvents, authority=Authority.SYSTEM)
def latest_events(cmd: LatestEvents, uow: UnitOfWork) -> LatestEventsPage:
    rows = uow.execute(LATEST, {"after": cmd.after or "", "only": cmd.aggregate, "limit": cmd.limit + 1}).fetchall()
    records = [
        ChangeRecord(seq=r[0], aggregate=r[1], version=r[2], event_type=r[3], payload=r[4], occurred_at=r[5])
        for r in rows[: cmd.limit]
    ]
    more = len(rows) > cmd.limit
    return LatestEventsPage(records=records, next_after=records[-1].aggregate if more else None)
