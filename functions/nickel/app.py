"""Nickel's routes: thin adapters from HTTP to the use cases in ``nickel.logic``."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header

from nickel import logic
from nickel.models import CreateAssetBody, IssueBody, RedeemBody, TransferBody
from shared.context import Caller, fingerprint, idempotency_key_of, require_caller
from shared.contracts.changes import Idempotency
from shared.contracts.nickel import AssetOut, TransferOut
from shared.http import call_context, create_app, lambda_handler, written

app = create_app()
# Documentation of the optional Idempotency-Key header; its value is read and checked by _request.
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", description="1..128 printable ASCII; a repeat replays the first answer."),
]


def created(description: str, model: type[Any]) -> dict[int, Any]:
    """The route's 201 answer, for the OpenAPI document."""
    return {201: {"description": description, "content": {"application/json": {"model": model}}}}


def _request(*, key_required: bool = False) -> tuple[Caller, Idempotency | None]:
    """The caller, and the idempotency of this request if it carries an ``Idempotency-Key``."""
    event: dict[str, Any] = app.current_event.raw_event
    caller = require_caller(event)
    key = idempotency_key_of(event, required=key_required)
    idem = Idempotency(caller_id=str(caller.entity_id), key=key, fingerprint=fingerprint(event)) if key else None
    return caller, idem


@app.post("/v1/assets", responses=created("The asset.", AssetOut))
def create_asset(body: CreateAssetBody) -> Response[AssetOut]:
    """Create an asset (platform admin)."""
    caller = require_caller(app.current_event.raw_event)
    done = logic.create_asset(body, caller, call_context(app))
    return written(201, AssetOut.of(done.result), done.write_version or "")


@app.post("/v1/assets/<code>/issue", responses=created("The issue transfer.", TransferOut))
def issue(code: str, body: IssueBody, idempotency_key: IdempotencyKey = None) -> Response[TransferOut]:
    """Issue an amount of the asset to an entity's wallet (platform admin)."""
    caller, idem = _request()
    done = logic.issue(code, body, caller, idem, call_context(app))
    return written(201, TransferOut.of(done.result), done.write_version or "")


@app.post("/v1/assets/<code>/redeem", responses=created("The redeem transfer.", TransferOut))
def redeem(code: str, body: RedeemBody, idempotency_key: IdempotencyKey = None) -> Response[TransferOut]:
    """Return an amount from the caller's wallet to the asset's issuer side."""
    caller, idem = _request()
    done = logic.redeem(code, body, caller, idem, call_context(app))
    return written(201, TransferOut.of(done.result), done.write_version or "")


@app.post("/v1/transfers", responses=created("The posted transfer.", TransferOut))
def transfer(body: TransferBody, idempotency_key: IdempotencyKey = None) -> Response[TransferOut]:
    """Move an amount from the caller's wallet to another entity's (``Idempotency-Key`` is required)."""
    caller, idem = _request(key_required=True)
    assert idem is not None
    done = logic.transfer(body, caller, idem, call_context(app))
    return written(201, TransferOut.of(done.result), done.write_version or "")


handler = lambda_handler(app)
