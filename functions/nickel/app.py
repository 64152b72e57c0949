"""Nickel's routes: each declares its answer and its Idempotency-Key, and calls one use case."""

from __future__ import annotations

from nickel import logic
from nickel.models import CreateAssetBody, IssueBody, RedeemBody, TransferBody
from shared.contracts.nickel import AssetOut, AssetState, TransferOut, TransferState
from shared.http import create_app, lambda_handler
from shared.internal import CallResult
from shared.routes import Call, Writes

app = create_app()
writes = Writes(app)


@writes.post("/v1/assets", 201, AssetOut)
def create_asset(body: CreateAssetBody, call: Call) -> CallResult[AssetState]:
    """Create an asset (platform admin)."""
    return logic.create_asset(body, call)


@writes.post("/v1/assets/<code>/issue", 201, TransferOut, idempotency="optional")
def issue(code: str, body: IssueBody, call: Call) -> CallResult[TransferState]:
    """Issue an amount of the asset to an entity's wallet (platform admin)."""
    return logic.issue(code, body, call)


@writes.post("/v1/assets/<code>/redeem", 201, TransferOut, idempotency="optional")
def redeem(code: str, body: RedeemBody, call: Call) -> CallResult[TransferState]:
    """Return an amount from the caller's wallet to the asset's issuer side."""
    return logic.redeem(code, body, call)


@writes.post("/v1/transfers", 201, TransferOut, idempotency="required")
def transfer(body: TransferBody, call: Call) -> CallResult[TransferState]:
    """Move an amount from the caller's wallet to another entity's."""
    return logic.transfer(body, call)


handler = lambda_handler(app)
