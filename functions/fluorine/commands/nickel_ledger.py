"""Nickel's double-entry ledger: the postings every Nickel command is made of (no handlers here).

A command (1) checks the asset and the parties, (2) makes sure the receiving accounts exist
(inserted in a fixed order), (3) locks every account it touches with ``FOR UPDATE`` ordered by
account id — one global order, so concurrent postings on the same hot accounts wait for each
other instead of deadlocking — (4) checks available balances (``balance - held``) on the locked
rows and (5) inserts the journal rows; the journal's trigger moves the balances (see
schema/migrations/0004_nickel.sql; holds move ``held`` the same way, 0010_holds.sql).

A single posting (a transfer, an issue, a redemption) does all of this in one round trip:
``post_one`` calls the server-side ``nickel_post_one`` (0021_lean_postings.sql), which also
claims the command's idempotency key and writes the outbox rows, so its locks are held for one
statement and the commit instead of ~8 client round trips.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg.rows import class_row

from fluorine.idempotency import KeyAlreadyUsed
from fluorine.uow import UnitOfWork
from shared.contracts.nickel import (
    TRANSFER_POSTED,
    BalanceState,
    TransferKind,
    TransferState,
    transfer_aggregate,
    wallet_aggregate,
)
from shared.errors import AppError, Forbidden, NotFound, OperationFailed
from shared.observability import correlation_id
from shared.validation import MAX_AMOUNT

ISSUER = None  # the owner of an asset's issuer account
BALANCES = (
    "SELECT a.owner_id AS entity_id, a.asset, a.balance AS amount, a.held, s.scale, a.version"
    " FROM ledger_accounts a JOIN assets s ON s.code = a.asset"
    " WHERE a.id = ANY(%s) AND a.owner_id IS NOT NULL ORDER BY a.id"
)


@dataclass(frozen=True)
class Account:
    id: int
    owner_id: UUID | None
    balance: int
    held: int
    version: int

    @property
    def available(self) -> int:
        return self.balance - self.held


Accounts = dict[UUID | None, Account]


@dataclass(frozen=True)
class Posting:
    """One journal row to write: ``amount`` from ``source`` to ``target`` (None: the issuer side)."""

    id: UUID
    source: UUID | None
    target: UUID | None
    amount: int
    kind: TransferKind
    memo: str | None = None
    reverses: UUID | None = None  # a reversal: the transfer it undoes
    hold_id: UUID | None = None  # a capture: the hold it settles


def posted_state(posting: Posting, asset: str, created_at: datetime) -> TransferState:
    fields = {"from": posting.source, "to": posting.target, "memo": posting.memo, "kind": posting.kind}
    fields["reverses"] = posting.reverses
    return TransferState.model_validate(
        {**fields, "id": posting.id, "asset": asset, "amount": posting.amount, "created_at": created_at}
    )


def require_asset(uow: UnitOfWork, code: str) -> None:
    """404 if there is no such asset."""
    if uow.execute("SELECT 1 FROM assets WHERE code = %s", (code,)).fetchone() is None:
        raise NotFound("The asset does not exist.")


def active_entities(uow: UnitOfWork, ids: Iterable[UUID]) -> dict[UUID, bool]:
    """For each id that names an entity: whether it is active (unknown ids are left out)."""
    rows = uow.execute("SELECT id, status = 'active' FROM entities WHERE id = ANY(%s)", (list(ids),)).fetchall()
    return {row[0]: bool(row[1]) for row in rows}


def ensure_accounts(uow: UnitOfWork, asset: str, owners: Sequence[UUID]) -> None:
    """Open the holders' accounts that do not exist yet (in owner order, so inserts never cross)."""
    uow.execute(
        "INSERT INTO ledger_accounts (asset, owner_id) SELECT %s, o FROM unnest(%s::uuid[]) AS o ORDER BY o"
        " ON CONFLICT (asset, owner_id) WHERE owner_id IS NOT NULL DO NOTHING",
        (asset, sorted(set(owners))),
    )


def lock_accounts(uow: UnitOfWork, asset: str, owners: Iterable[UUID | None]) -> Accounts:
    """The existing accounts of these owners (None: issuer side), locked in account-id order."""
    wanted = set(owners)
    holders = [o for o in wanted if o is not None]
    rows = uow.execute(
        "SELECT id, owner_id, balance, held, version FROM ledger_accounts"
        " WHERE asset = %s AND (owner_id = ANY(%s) OR (%s AND owner_id IS NULL)) ORDER BY id FOR UPDATE",
        (asset, holders, ISSUER in wanted),
    ).fetchall()
    return {row[1]: Account(*row) for row in rows}


def require_funds(account: Account | None, amount: int) -> None:
    """Refuse to spend more than the available balance (what pending holds reserve is not spendable)."""
    if account is None or account.available < amount:
        raise OperationFailed("The available balance is not enough for this amount.")


def require_supply_room(issuer: Account, amount: int) -> None:
    """Refuse an issue that would take the asset's outstanding supply past the amount bound."""
    if -issuer.balance > MAX_AMOUNT - amount:
        raise OperationFailed("Issuing this amount would exceed the asset's maximum total supply.")


def post(
    uow: UnitOfWork, asset: str, accounts: dict[UUID | None, Account], postings: list[Posting]
) -> list[TransferState]:
    """Write the journal rows (moving the balances) and their events; the posted transfers."""
    rows = uow.execute(
        "INSERT INTO transfers"
        " (id, asset, debit_account, credit_account, from_entity, to_entity, amount, memo, kind, reverses, hold_id)"
        " SELECT t.id, %s, t.debit, t.credit, t.src, t.dst, t.amount, t.memo, t.kind, t.reverses, t.hold FROM unnest("
        "%s::uuid[], %s::bigint[], %s::bigint[], %s::uuid[], %s::uuid[], %s::bigint[], %s::text[], %s::text[],"
        " %s::uuid[], %s::uuid[]) AS t(id, debit, credit, src, dst, amount, memo, kind, reverses, hold)"
        " RETURNING id, created_at",
        (
            asset,
            [p.id for p in postings],
            [accounts[p.source].id for p in postings],
            [accounts[p.target].id for p in postings],
            [p.source for p in postings],
            [p.target for p in postings],
            [p.amount for p in postings],
            [p.memo for p in postings],
            [p.kind for p in postings],
            [p.reverses for p in postings],
            [p.hold_id for p in postings],
        ),
    ).fetchall()
    created: dict[UUID, datetime] = {row[0]: row[1] for row in rows}
    posted = [posted_state(p, asset, created[p.id]) for p in postings]
    for state in posted:
        uow.emit(transfer_aggregate(state.id), state.version, TRANSFER_POSTED, state)
    return posted


def emit_balances(uow: UnitOfWork, accounts: Iterable[Account | int]) -> None:
    """One ``BalanceChanged`` per holder account touched (accounts or their ids), after the changes."""
    ids = sorted({a if isinstance(a, int) else a.id for a in accounts})
    with uow.conn.cursor(row_factory=class_row(BalanceState)) as cursor:
        states = cursor.execute(BALANCES, (ids,)).fetchall()
    for state in states:
        uow.emit(wallet_aggregate(state.entity_id, state.asset), state.version, "BalanceChanged", state)


POST_ONE_CALL = (
    "nickel_post_one(%s::text, %s::uuid, %s::text, %s::uuid, %s::uuid, %s::bigint, %s::text,"
    " %s::uuid, %s::text, %s::text, %s::text, %s::text)"
)
# In one autocommit statement (0023): the caller check gates the call; anything but a posting or a
# replay raises (fluorine.lean.NOT_POSTED), so nothing of the statement is kept.
GATED = "SELECT nickel_only_if_posted(CASE WHEN fluorine_caller_ok(%s::uuid, %s::uuid, %s::boolean) THEN {call} END)"


def _refusal(answer: dict[str, Any]) -> AppError:
    """The answer to a command a lean function refused (the messages of the checks in Python)."""
    outcome = answer["outcome"]
    if outcome == "not_pending":
        return OperationFailed(f"The hold is {answer['status']}, not pending.")
    if outcome not in REFUSED:
        raise RuntimeError(f"a lean function answered {outcome!r}")
    error, message = REFUSED[outcome]
    return error(message)


REFUSED: dict[str, tuple[type[AppError], str]] = {
    "no_asset": (NotFound, "The asset does not exist."),
    "no_recipient": (NotFound, "The recipient does not exist."),
    "no_funds": (OperationFailed, "The available balance is not enough for this amount."),
    "no_supply_room": (OperationFailed, "Issuing this amount would exceed the asset's maximum total supply."),
    "no_hold": (NotFound, "The hold does not exist."),
    "not_payee": (Forbidden, "Only the hold's payee may capture it."),
    "expired": (OperationFailed, "The hold has expired."),
    "too_much": (OperationFailed, "A capture cannot take more than the hold's amount."),
}


def run_lean(uow: UnitOfWork, call: str, params: tuple[Any, ...]) -> dict[str, Any]:
    """Run a lean server-side function (0021, 0022) whose arguments end with the claim of
    ``uow.key`` (four) and the request's correlation id (for its outbox rows, as ``uow.emit``'s);
    ``call`` is its call expression. Gated by the caller check when ``uow.gate`` is set (0023).

    ``KeyAlreadyUsed`` if the key was used before; a refusal raised having written nothing but the
    key's claim; else its records are the unit of work's and its answer is returned.
    """
    key = uow.key
    claim = (key.caller_id, key.key, key.fingerprint, key.command) if key is not None else (None,) * 4
    args = (*params, *claim, correlation_id())
    if uow.gate is None:
        row = uow.execute(f"SELECT {call}", args).fetchone()
    else:
        row = uow.execute(GATED.format(call=call), (*uow.gate, *args)).fetchone()
    assert row is not None
    answer: dict[str, Any] = row[0]
    if answer["outcome"] == "replay":
        raise KeyAlreadyUsed
    uow.key_claimed = key is not None
    if answer["outcome"] != "posted":
        raise _refusal(answer)
    uow.written(answer["records"])
    uow.key_answered = key is not None
    return answer


def post_one(uow: UnitOfWork, asset: str, posting: Posting) -> TransferState:
    """Post one transfer, issue (source ISSUER) or redemption (target ISSUER) in one round trip:
    the key's claim, the checks, the locks, the journal row and its events (``nickel_post_one``)."""
    params = (posting.kind, posting.id, asset, posting.source, posting.target, posting.amount, posting.memo)
    return TransferState.model_validate(run_lean(uow, POST_ONE_CALL, params)["transfer"])
