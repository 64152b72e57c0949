"""Nickel's use cases: plain functions of a validated request and its call; no HTTP, no SQL."""

from __future__ import annotations

import uuid

from nickel.models import CreateAssetBody, IssueBody, RedeemBody, TransferBody
from shared import internal
from shared.access import require_role
from shared.contracts.nickel import AssetState, CreateAsset, IssueAsset, PostTransfer, RedeemAsset, TransferState
from shared.routes import Call


def create_asset(body: CreateAssetBody, call: Call) -> internal.CallResult[AssetState]:
    require_role(call.caller)
    command = CreateAsset(code=body.code, name=body.name, scale=body.scale)
    return internal.call("fluorine", command, AssetState, call.context)


def issue(code: str, body: IssueBody, call: Call) -> internal.CallResult[TransferState]:
    """Mint into a holder's wallet: platform admins only."""
    require_role(call.caller)
    command = IssueAsset(id=uuid.uuid4(), asset=code, to=body.to, amount=body.amount, idempotency=call.idempotency)
    return internal.call("fluorine", command, TransferState, call.context)


def redeem(code: str, body: RedeemBody, call: Call) -> internal.CallResult[TransferState]:
    command = RedeemAsset(
        id=uuid.uuid4(), asset=code, from_entity=call.entity_id, amount=body.amount, idempotency=call.idempotency
    )
    return internal.call("fluorine", command, TransferState, call.context)


def transfer(body: TransferBody, call: Call) -> internal.CallResult[TransferState]:
    command = PostTransfer(
        id=uuid.uuid4(),
        from_entity=call.entity_id,
        to=body.to,
        asset=body.asset,
        amount=body.amount,
        memo=body.memo,
        idempotency=call.idempotency,
    )
    return internal.call("fluorine", command, TransferState, call.context)
