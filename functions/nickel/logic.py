"""Nickel's use cases: plain functions of a validated request and its caller; no HTTP, no SQL."""

from __future__ import annotations

import uuid

from nickel.models import CreateAssetBody, IssueBody, RedeemBody, TransferBody
from shared import internal
from shared.access import require_role
from shared.context import Caller
from shared.contracts.changes import Idempotency
from shared.contracts.nickel import AssetState, CreateAsset, IssueAsset, PostTransfer, RedeemAsset, TransferState

Context = internal.CallContext


def create_asset(body: CreateAssetBody, caller: Caller, context: Context) -> internal.CallResult[AssetState]:
    require_role(caller)
    command = CreateAsset(code=body.code, name=body.name, scale=body.scale)
    return internal.call("fluorine", command, AssetState, context)


def issue(
    code: str, body: IssueBody, caller: Caller, idempotency: Idempotency | None, context: Context
) -> internal.CallResult[TransferState]:
    """Mint into a holder's wallet: platform admins only."""
    require_role(caller)
    command = IssueAsset(id=uuid.uuid4(), asset=code, to=body.to, amount=body.amount, idempotency=idempotency)
    return internal.call("fluorine", command, TransferState, context)


def redeem(
    code: str, body: RedeemBody, caller: Caller, idempotency: Idempotency | None, context: Context
) -> internal.CallResult[TransferState]:
    command = RedeemAsset(
        id=uuid.uuid4(), asset=code, from_entity=caller.entity_id, amount=body.amount, idempotency=idempotency
    )
    return internal.call("fluorine", command, TransferState, context)


def transfer(
    body: TransferBody, caller: Caller, idempotency: Idempotency, context: Context
) -> internal.CallResult[TransferState]:
    command = PostTransfer(
        id=uuid.uuid4(),
        from_entity=caller.entity_id,
        to=body.to,
        asset=body.asset,
        amount=body.amount,
        memo=body.memo,
        idempotency=idempotency,
    )
    return internal.call("fluorine", command, TransferState, context)
