"""Nickel's holds: place, capture, void, and the sweeper's expiry (two-phase transfers).

Locks are always taken hold first, then accounts in account-id order (as every posting takes
them), so holds, postings and the sweeper queue instead of deadlocking. A hold's row lock decides
a capture, a void and an expiry racing on it: the first to commit resolves it, the others find it
resolved (422, or skipped by the sweeper); the holds' triggers refuse any second resolution and
any capture or void from ``expires_at`` on, whatever code runs (schema/migrations/0010_holds.sql).
Placing and capturing, the hot path of a two-phase payment, run server-side in one statement each
with the key's claim (0022_lean_holds.sql); voids and the sweeper's expiry stay here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from psycopg.rows import class_row

from fluorine.authority import Authority
from fluorine.bus import command_handler
from fluorine.commands import nickel_ledger as ledger
from fluorine.uow import UnitOfWork
from shared.contracts.nickel import TransferState
from shared.contracts.nickel_holds import (
    HOLD_EVENTS,
    CaptureHold,
    ExpireHolds,
    HoldsExpired,
    HoldState,
    HoldStatus,
    PlaceHold,
    VoidHold,
    hold_aggregate,
)
from shared.errors import NotFound, OperationFailed

COLUMNS = (
    "id, from_entity AS from_, to_entity AS to, asset, amount, captured, status, memo, expires_at, created_at, version"
)


class HoldRow(HoldState):
    """A hold's row: its state and the payer's account it is held on."""

    debit_account: int


class LockedHold(HoldRow):
    """A hold read under its row lock, and whether ``expires_at`` had passed when it was read (by the
    database's clock: one clock for every Fluorine instance and the sweeper)."""

    due: bool


def emit_hold(uow: UnitOfWork, hold: HoldState) -> None:
    uow.emit(hold_aggregate(hold.id), hold.version, HOLD_EVENTS[hold.status], hold)


def locked_hold(uow: UnitOfWork, hold_id: UUID, party: UUID) -> LockedHold:
    """The hold, locked; 404 if there is none or ``party`` is neither its payer nor its payee."""
    hold = uow.one(
        LockedHold,
        f"SELECT {COLUMNS}, debit_account, expires_at <= clock_timestamp() AS due FROM holds WHERE id = %s FOR UPDATE",
        (hold_id,),
    )
    if hold is None or hold.role_of(party) is None:
        raise NotFound("The hold does not exist.")
    return hold


def require_pending(hold: LockedHold) -> None:
    if hold.status != "pending":
        raise OperationFailed(f"The hold is {hold.status}, not pending.")
    if hold.due:
        raise OperationFailed("The hold has expired.")


def resolve(uow: UnitOfWork, hold_id: UUID, status: HoldStatus, captured: int = 0) -> HoldState:
    """Capture or void a locked pending hold, if it is still before its ``expires_at`` at this very
    statement (the time may have passed while the accounts' locks were awaited); its trigger
    releases the held amount."""
    resolved = uow.one(
        HoldState,
        f"UPDATE holds SET status = %s, captured = %s WHERE id = %s AND expires_at > statement_timestamp()"
        f" RETURNING {COLUMNS}",
        (status, captured, hold_id),
    )
    if resolved is None:
        raise OperationFailed("The hold has expired.")
    return resolved


# Placing and capturing are one statement each with the key's claim (0022_lean_holds.sql): the
# checks, the locks (hold first, then accounts), the writes and the events, server-side.
PLACE_HOLD = (
    "nickel_place_hold(%s::uuid, %s::text, %s::uuid, %s::uuid, %s::bigint, %s::text, %s::integer,"
    " %s::uuid, %s::text, %s::text, %s::text, %s::text)"
)
CAPTURE_HOLD = (
    "nickel_capture_hold(%s::uuid, %s::uuid, %s::uuid, %s::bigint, %s::uuid, %s::text, %s::text, %s::text, %s::text)"
)


@command_handler(PlaceHold, acts_as="from_entity", claims_key=True)
def place_hold(cmd: PlaceHold, uow: UnitOfWork) -> HoldState:
    if cmd.to == cmd.from_entity:
        raise OperationFailed("A hold for oneself is not allowed.")
    params = (cmd.id, cmd.asset, cmd.from_entity, cmd.to, cmd.amount, cmd.memo, cmd.expires_in)
    return HoldState.model_validate(ledger.run_lean(uow, PLACE_HOLD, params)["hold"])


@command_handler(CaptureHold, acts_as="payee", claims_key=True)
def capture_hold(cmd: CaptureHold, uow: UnitOfWork) -> TransferState:
    """Post ``amount`` (default: all) of the hold to its payee as a ``capture`` transfer; release the rest."""
    answer = ledger.run_lean(uow, CAPTURE_HOLD, (cmd.id, cmd.hold_id, cmd.payee, cmd.amount))
    return TransferState.model_validate(answer["transfer"])


@command_handler(VoidHold, acts_as="by")
def void_hold(cmd: VoidHold, uow: UnitOfWork) -> HoldState:
    """Release a pending hold entirely (its payer or its payee)."""
    hold = locked_hold(uow, cmd.hold_id, cmd.by)
    require_pending(hold)
    voided = resolve(uow, hold.id, "voided")
    emit_hold(uow, voided)
    ledger.emit_balances(uow, [hold.debit_account])
    return voided


@command_handler(ExpireHolds, authority=Authority.SYSTEM)
def expire_holds(cmd: ExpireHolds, uow: UnitOfWork) -> HoldsExpired:
    """Expire pending holds past ``expires_at``, oldest first; a hold locked by a capture or a void
    racing this is skipped (that command decides it; if it is refused, the next sweep expires it)."""
    due = uow.execute(
        "SELECT id, debit_account FROM holds WHERE status = 'pending' AND expires_at <= statement_timestamp()"
        " ORDER BY expires_at, id LIMIT %s FOR UPDATE SKIP LOCKED",
        (cmd.limit,),
    ).fetchall()
    if not due:
        return HoldsExpired(expired=0)
    account_ids = sorted({row[1] for row in due})
    uow.execute("SELECT id FROM ledger_accounts WHERE id = ANY(%s) ORDER BY id FOR UPDATE", (account_ids,))
    expired = _rows(
        uow,
        HoldState,
        f"UPDATE holds SET status = 'expired' WHERE id = ANY(%s) AND expires_at <= statement_timestamp()"
        f" RETURNING {COLUMNS}",
        ([row[0] for row in due],),
    )
    for hold in sorted(expired, key=lambda h: (h.expires_at, h.id)):
        emit_hold(uow, hold)
    ledger.emit_balances(uow, account_ids)
    return HoldsExpired(expired=len(expired))


def _rows(uow: UnitOfWork, model: type[HoldState], query: str, params: Sequence[Any]) -> list[HoldState]:
    with uow.conn.cursor(row_factory=class_row(model)) as cursor:
        return cursor.execute(query, params).fetchall()  # type: ignore[arg-type]  # built from constants
