"""Nickel's use cases: plain functions of a validated request and its call; no HTTP, no SQL."""

from __future__ import annotations

import uuid

from nickel.models import CaptureBody, CreateAssetBody, HoldBody, IssueBody, RedeemBody, ReverseBody, TransferBody
from shared import internal
from shared.access import require_role
from shared.contracts.nickel import (
    AssetState,
    CreateAsset,
    IssueAsset,
    PostTransfer,
    RedeemAsset,
    ReverseTransfer,
    TransferState,
)
from shared.contracts.nickel_holds import CaptureHold, HoldState, PlaceHold, VoidHold
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
        id=uuid.uuid4(), from_entity=call.entity_id, idempotency=call.idempotency, **body.model_dump()
    )
    return internal.call("fluorine", command, TransferState, call.context)


def reverse(transfer_id: uuid.UUID, body: ReverseBody, call: Call) -> internal.CallResult[TransferState]:
    """Undo a transfer with a linked ``reversal`` transfer: platform admins only."""
    require_role(call.caller)
    command = ReverseTransfer(
        id=uuid.uuid4(), transfer_id=transfer_id, reason=body.reason, idempotency=call.idempotency
    )
    return internal.call("fluorine", command, TransferState, call.context)


def place_hold(body: HoldBody, call: Call) -> internal.CallResult[HoldState]:
    command = PlaceHold(id=uuid.uuid4(), from_entity=call.entity_id, idempotency=call.idempotency, **body.model_dump())
    return internal.call("fluorine", command, HoldState, call.context)


def capture_hold(hold_id: uuid.UUID, body: CaptureBody, call: Call) -> internal.CallResult[TransferState]:
    command = CaptureHold(
        id=uuid.uuid4(), hold_id=hold_id, payee=call.entity_id, amount=body.amount, idempotency=call.idempotency
    )
    return internal.call("fluorine", command, TransferState, call.context)


def void_hold(hold_id: uuid.UUID, call: Call) -> internal.CallResult[HoldState]:
    command = VoidHold(hold_id=hold_id, by=call.entity_id, idempotency=call.idempotency)
    return internal.call("fluorine", command, HoldState, call.context)
