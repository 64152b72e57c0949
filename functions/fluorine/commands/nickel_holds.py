"""Nickel's holds: place, capture, void, and the sweeper's expiry (two-phase transfers).

Locks are always taken hold first, then accounts in account-id order (as every posting takes
them), so holds, postings and the sweeper queue instead of deadlocking. A hold's row lock decides
a capture, a void and an expiry racing on it: the first to commit resolves it, the others find it
resolved (422, or skipped by the sweeper); the holds' triggers refuse any second resolution and
any capture or void from ``expires_at`` on, whatever code runs (schema/migrations/0010_holds.sql).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from psycopg.rows import class_row

from fluorine.authority import Authority
from fluorine.bus import command_handler
from fluorine.commands import nickel_ledger as ledger
from fluorine.commands.nickel_ledger import Posting
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
from shared.errors import Forbidden, NotFound, OperationFailed

COLUMNS = (
    "id, from_entity AS from_, to_entity AS to, asset, amount, captured, status, memo, expires_at, created_at, version"
)


class HoldRow(HoldState):
    """A hold's row: its state and the payer's account it is held on."""

    debit_account: int

    def state(self) -> HoldState:
        return HoldState.model_validate(self.model_dump(include=set(HoldState.model_fields)))


class LockedHold(HoldRow):
    """A hold read under its row lock, and whether ``expires_at`` had passed when it was read (by the
    database's clock: one clock for every Fluorine instance and the sweeper)."""

    due: bool


# Lock the payer's account if it has ``amount`` available, and hold it there, in one statement:
# a row that passes the WHERE but is locked is re-checked on its newest version once the lock is
# granted (READ COMMITTED's rule for FOR UPDATE), so nothing is ever held twice; no row, no hold.
PLACE = f"""
    WITH payer AS (
        SELECT id FROM ledger_accounts
        WHERE asset = %(asset)s AND owner_id = %(payer)s AND balance - held >= %(amount)s FOR UPDATE
    ), now AS (SELECT clock_timestamp() AS t)
    INSERT INTO holds (id, asset, debit_account, from_entity, to_entity, amount, memo, created_at, expires_at)
    SELECT %(id)s, %(asset)s, payer.id, %(payer)s, %(payee)s, %(amount)s, %(memo)s, now.t,
           now.t + make_interval(secs => %(ttl)s)
    FROM payer, now
    RETURNING {COLUMNS}, debit_account
"""


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


@command_handler(PlaceHold, acts_as="from_entity")
def place_hold(cmd: PlaceHold, uow: UnitOfWork) -> HoldState:
    if cmd.to == cmd.from_entity:
        raise OperationFailed("A hold for oneself is not allowed.")
    ledger.require_asset_and_recipient(uow, cmd.asset, cmd.to)
    fields = {"id": cmd.id, "asset": cmd.asset, "payer": cmd.from_entity, "payee": cmd.to, "amount": cmd.amount}
    placed = uow.one(HoldRow, PLACE, {**fields, "memo": cmd.memo, "ttl": cmd.expires_in})
    if placed is None:
        raise OperationFailed("The available balance is not enough for this amount.")
    hold = placed.state()
    emit_hold(uow, hold)
    ledger.emit_balances(uow, [placed.debit_account])
    return hold


@command_handler(CaptureHold, acts_as="payee")
def capture_hold(cmd: CaptureHold, uow: UnitOfWork) -> TransferState:
    """Post ``amount`` (default: all) of the hold to its payee as a ``capture`` transfer; release the rest."""
    hold = locked_hold(uow, cmd.hold_id, cmd.payee)
    if hold.role_of(cmd.payee) != "payee":
        raise Forbidden("Only the hold's payee may capture it.")
    require_pending(hold)
    amount = hold.amount if cmd.amount is None else cmd.amount
    if amount > hold.amount:
        raise OperationFailed("A capture cannot take more than the hold's amount.")
    ledger.ensure_accounts(uow, hold.asset, [hold.to])
    accounts = ledger.lock_accounts(uow, hold.asset, [hold.from_, hold.to])
    captured = resolve(uow, hold.id, "captured", amount)  # first: the release makes the amount available
    emit_hold(uow, captured)
    posting = Posting(
        id=cmd.id, source=hold.from_, target=hold.to, amount=amount, kind="capture", memo=hold.memo, hold_id=hold.id
    )
    (posted,) = ledger.post(uow, hold.asset, accounts, [posting])
    ledger.emit_balances(uow, accounts.values())
    return posted


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
