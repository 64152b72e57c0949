"""Reads of assets and of the caller's wallet and transfer history."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from francium.views import wallets
from shared.context import require_caller
from shared.contracts.nickel import AssetList, AssetOut, BalanceOut, TransferList, TransferOut, WalletOut
from shared.errors import NotFound
from shared.list_params import Cursor, Limit
from shared.pagination import DEFAULT_LIMIT
from shared.validation import ASSET_CODE_PATTERN

router = Router()


@router.get("/v1/assets")
def list_assets(limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> AssetList:
    """Every asset, ordered by code."""
    require_caller(router.current_event.raw_event)
    page, after = wallets.assets_page(limit, cursor)
    return AssetList(items=[AssetOut.of(a) for a in page], next_cursor=after)


@router.get("/v1/assets/<code>")
def get_asset(code: str) -> AssetOut:
    """One asset by code (404 if there is none)."""
    require_caller(router.current_event.raw_event)
    found = wallets.asset(code) if len(code) <= 32 else None
    if found is None:
        raise NotFound("The asset does not exist.")
    return AssetOut.of(found)


@router.get("/v1/wallets/me")
def my_wallet() -> WalletOut:
    """The caller's balances by asset code: what it owns, what pending holds reserve, what it may spend."""
    caller = require_caller(router.current_event.raw_event)
    balances = [BalanceOut.of(b) for b in wallets.balances(caller.entity_id)]
    return WalletOut(entity_id=caller.entity_id, balances=balances)


@router.get("/v1/wallets/me/transfers")
def my_transfers(
    asset: Annotated[str | None, Query(pattern=ASSET_CODE_PATTERN, description="Only this asset's transfers.")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> TransferList:
    """The caller's transfers (sent and received), newest first."""
    caller = require_caller(router.current_event.raw_event)
    page, after = wallets.history_page(caller.entity_id, asset, limit, cursor)
    return TransferList(items=[TransferOut.of(t) for t in page], next_cursor=after)
