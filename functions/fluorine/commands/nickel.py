"""Nickel's commands: create an asset; issue, transfer, redeem and distribute it on the ledger.

Each command is one transaction built from ``nickel_ledger``'s steps; a refusal (404, 422) rolls
everything back, so a transfer or a whole distribution is posted entirely or not at all.
"""

from __future__ import annotations

import uuid

from fluorine.authority import Authority
from fluorine.bus import command_handler
from fluorine.commands import nickel_ledger as ledger
from fluorine.commands.nickel_ledger import ISSUER, Posting
from fluorine.uow import UnitOfWork
from shared.contracts.nickel import (
    AssetState,
    CreateAsset,
    DistributeAsset,
    DistributionResult,
    IssueAsset,
    PostTransfer,
    RedeemAsset,
    TransferState,
    asset_aggregate,
    wallet_aggregate,
)
from shared.errors import Conflict, NotFound, OperationFailed
from shared.validation import MAX_AMOUNT

READ_BACK_PAYEES = 15  # payees' wallets a distribution's write version covers


@command_handler(CreateAsset, authority=Authority.ADMIN)
def create_asset(cmd: CreateAsset, uow: UnitOfWork) -> AssetState:
    state = uow.one(
        AssetState,
        "INSERT INTO assets (code, name, scale) VALUES (%s, %s, %s) ON CONFLICT (code) DO NOTHING"
        " RETURNING code, name, scale, created_at, version",
        (cmd.code, cmd.name, cmd.scale),
    )
    if state is None:
        raise Conflict("An asset with this code already exists.")
    uow.execute("INSERT INTO ledger_accounts (asset, owner_id) VALUES (%s, NULL)", (cmd.code,))
    uow.emit(asset_aggregate(state.code), state.version, "AssetCreated", state)
    return state


# Issue, redeem and transfer are one posting each, checked, locked, posted and recorded in one
# statement with the key's claim (``ledger.post_one``, 0021_lean_postings.sql).


@command_handler(IssueAsset, authority=Authority.ADMIN, claims_key=True)
def issue_asset(cmd: IssueAsset, uow: UnitOfWork) -> TransferState:
    posting = Posting(id=cmd.id, source=ISSUER, target=cmd.to, amount=cmd.amount, kind="issue")
    return ledger.post_one(uow, cmd.asset, posting)


@command_handler(RedeemAsset, acts_as="from_entity", claims_key=True)
def redeem_asset(cmd: RedeemAsset, uow: UnitOfWork) -> TransferState:
    posting = Posting(id=cmd.id, source=cmd.from_entity, target=ISSUER, amount=cmd.amount, kind="redeem")
    return ledger.post_one(uow, cmd.asset, posting)


@command_handler(PostTransfer, acts_as="from_entity", claims_key=True)
def post_transfer(cmd: PostTransfer, uow: UnitOfWork) -> TransferState:
    if cmd.to == cmd.from_entity:
        raise OperationFailed("A transfer to oneself is not allowed.")
    posting = Posting(
        id=cmd.id, source=cmd.from_entity, target=cmd.to, amount=cmd.amount, kind="transfer", memo=cmd.memo
    )
    return ledger.post_one(uow, cmd.asset, posting)


@command_handler(DistributeAsset, acts_as="from_entity")
def distribute_asset(cmd: DistributeAsset, uow: UnitOfWork) -> DistributionResult:
    """Pay ``amount_each`` to every (active) recipient but the payer, in one all-or-nothing posting."""
    ledger.require_asset(uow, cmd.asset)
    wanted = sorted({r for r in cmd.recipients if r != cmd.from_entity})
    known = ledger.active_entities(uow, wanted)
    if len(known) != len(wanted):
        raise NotFound("A recipient does not exist.")
    payees = [r for r in wanted if known[r]]
    total = cmd.amount_each * len(payees)
    if total > MAX_AMOUNT:
        raise OperationFailed("The distribution's total exceeds the maximum amount.")
    if not payees:
        return DistributionResult(transfers=0, total=0)
    ledger.ensure_accounts(uow, cmd.asset, payees)
    accounts = ledger.lock_accounts(uow, cmd.asset, [cmd.from_entity, *payees])
    ledger.require_funds(accounts.get(cmd.from_entity), total)
    postings = [
        Posting(id=uuid.uuid4(), source=cmd.from_entity, target=p, amount=cmd.amount_each, kind="distribution")
        for p in payees
    ]
    ledger.post(uow, cmd.asset, accounts, postings)
    ledger.emit_balances(uow, accounts.values())
    # The payer's wallet, then the first payees': a small group's members all read their payment
    # back with X-Min-Version (a large group's later ones are eventually consistent), and the
    # token stays header-sized (about 70 bytes a wallet).
    read_back = [cmd.from_entity, *payees[:READ_BACK_PAYEES]]
    uow.track_for_reads(*(wallet_aggregate(entity, cmd.asset) for entity in read_back))
    return DistributionResult(transfers=len(postings), total=total)
