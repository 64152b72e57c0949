"""Nickel's routes: each declares its answer and its Idempotency-Key, and calls one use case."""

from __future__ import annotations

from nickel import logic
from nickel.models import CaptureBody, CreateAssetBody, HoldBody, IssueBody, RedeemBody, ReverseBody, TransferBody
from shared import snapstart
from shared.aws import prime_dynamodb
from shared.contracts.nickel import AssetOut, AssetState, TransferOut, TransferState
from shared.contracts.nickel_holds import HoldOut, HoldState
from shared.http import create_app, lambda_handler, prime_request
from shared.internal import CallResult, prime_invoke
from shared.routes import Call, Writes, uuid_or_404

app = create_app()
writes = Writes(app)
HOLD = "/v1/holds/<hold_id>"


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


@writes.post("/v1/transfers/<transfer_id>/reverse", 201, TransferOut, idempotency="required")
def reverse(transfer_id: str, body: ReverseBody, call: Call) -> CallResult[TransferState]:
    """Undo a transfer with a new transfer of kind ``reversal`` moving the amount back (platform admin)."""
    return logic.reverse(uuid_or_404(transfer_id, "transfer"), body, call)


@writes.post("/v1/holds", 201, HoldOut, idempotency="required")
def place_hold(body: HoldBody, call: Call) -> CallResult[HoldState]:
    """Reserve an amount of the caller's available balance for a payee, until captured, voided or expired."""
    return logic.place_hold(body, call)


@writes.post(f"{HOLD}/capture", 201, TransferOut, idempotency="required")
def capture_hold(hold_id: str, call: Call, body: CaptureBody | None = None) -> CallResult[TransferState]:
    """Take a pending hold (all of it, or ``amount``) as a ``capture`` transfer; the rest is released (payee).

    The body may be left out: the whole hold is taken."""
    return logic.capture_hold(uuid_or_404(hold_id, "hold"), body or CaptureBody(), call)


@writes.post(f"{HOLD}/void", 200, HoldOut, idempotency="optional")
def void_hold(hold_id: str, call: Call) -> CallResult[HoldState]:
    """Release a pending hold entirely (payer or payee)."""
    return logic.void_hold(uuid_or_404(hold_id, "hold"), call)


handler = lambda_handler(app)


@snapstart.prime()
def prime() -> None:
    """Every route calls Fluorine and reads the read cache: their clients, and the routes' validation."""
    prime_dynamodb()
    prime_invoke(TransferState)
    prime_request(handler, "POST", "/v1/transfers", "{}")
