"""Nickel's reversals: an operator undoes a transfer with a new, linked one; the journal is never edited.

The original transfer's row is locked first (``FOR UPDATE``: rows are never updated, but the lock
queues two reversals of one transfer), so the second finds the first and answers 409; the unique
``transfers.reverses`` is the database's own guarantee behind that check, and its trigger refuses a
reversal that does not mirror its transfer or reverses a reversal (schema/migrations/0010_holds.sql).
"""

from __future__ import annotations

from uuid import UUID

from psycopg import errors as pg_errors
from pydantic import BaseModel

from fluorine.authority import Authority
from fluorine.bus import command_handler
from fluorine.commands import nickel_ledger as ledger
from fluorine.commands.nickel_ledger import ISSUER, Posting
from fluorine.uow import UnitOfWork
from shared.contracts.nickel import ReverseTransfer, TransferKind, TransferState
from shared.errors import Conflict, NotFound, OperationFailed


class Original(BaseModel):
    """What a reversal needs of the transfer it undoes."""

    id: UUID
    asset: str
    source: UUID | None
    target: UUID | None
    amount: int
    kind: TransferKind


ORIGINAL = (
    "SELECT id, asset, from_entity AS source, to_entity AS target, amount, kind FROM transfers WHERE id = %s FOR UPDATE"
)


@command_handler(ReverseTransfer, authority=Authority.ADMIN)
def reverse_transfer(cmd: ReverseTransfer, uow: UnitOfWork) -> TransferState:
    """Move the original's amount back from its recipient to its sender (issuer side included)."""
    original = uow.one(Original, ORIGINAL, (cmd.transfer_id,))
    if original is None:
        raise NotFound("The transfer does not exist.")
    if original.kind == "reversal":
        raise OperationFailed("A reversal cannot be reversed.")
    # A statement of its own, after the lock: under READ COMMITTED it sees a reversal committed
    # while this one waited (a subquery of the locking statement would not).
    if uow.execute("SELECT 1 FROM transfers WHERE reverses = %s", (original.id,)).fetchone():
        raise Conflict("This transfer was already reversed.")
    # The value goes back the way it came: the recipient pays (the issuer side for a redemption).
    payer, payee = original.target, original.source
    accounts = ledger.lock_accounts(uow, original.asset, [payer, payee])
    if payer is ISSUER:
        ledger.require_supply_room(accounts[ISSUER], original.amount)
    else:
        ledger.require_funds(accounts.get(payer), original.amount)
    posting = Posting(
        id=cmd.id,
        source=payer,
        target=payee,
        amount=original.amount,
        kind="reversal",
        memo=cmd.reason,
        reverses=original.id,
    )
    try:
        with uow.conn.transaction():  # a savepoint: a violation is answered, not a 500
            (posted,) = ledger.post(uow, original.asset, accounts, [posting])
    except pg_errors.UniqueViolation as exc:  # unreachable under the lock above; the schema's guarantee
        raise Conflict("This transfer was already reversed.") from exc
    ledger.emit_balances(uow, accounts.values())
    return posted
