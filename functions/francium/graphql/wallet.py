"""GraphQL types of Nickel's reads: assets, the caller's wallet, its transfer history and its holds.

Amounts are 64-bit (up to 2^63-1): GraphQL's Int is 32-bit, so they travel as the ``Amount``
scalar (``francium.graphql.scalars``), a JSON integer like REST's.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated
from uuid import UUID

import strawberry

from francium.graphql.connections import Connection, checked_cursor, connection, page_size
from francium.graphql.holds import Hold, HoldRole, HoldStatus, filters
from francium.graphql.paging import hold_cursor, transfer_cursor
from francium.graphql.scalars import AMOUNT_SCALAR, Amount
from francium.views import holds, wallets
from shared.contracts.nickel import AssetState, TransferState
from shared.errors import InvalidRequest
from shared.validation import ASSET_CODE_PATTERN

__all__ = ["AMOUNT_SCALAR", "ASSET_CODE", "Amount", "Asset", "Wallet"]
ASSET_CODE = re.compile(ASSET_CODE_PATTERN)
FIRST = Annotated[int | None, strawberry.argument(description="Page size, 1..100 (default 20).")]


@strawberry.type(description="An asset.")
class Asset:
    code: str
    name: str
    scale: int
    created_at: datetime

    @classmethod
    def of(cls, state: AssetState) -> Asset:
        return cls(code=state.code, name=state.name, scale=state.scale, created_at=state.created_at)


@strawberry.type(description="One balance of the caller's wallet.")
class Balance:
    asset: str
    amount: Amount = strawberry.field(description="What the caller owns.")
    held: Amount = strawberry.field(description="What the caller's pending holds reserve of it.")
    available: Amount = strawberry.field(description="What the caller may spend: amount - held.")
    scale: int


@strawberry.type(description="A transfer the caller sent or received.")
class Transfer:
    id: strawberry.ID
    from_: strawberry.ID | None = strawberry.field(name="from", description="Null for the asset's issuer side.")
    to: strawberry.ID | None = strawberry.field(description="Null for the asset's issuer side.")
    asset: str
    amount: Amount
    memo: str | None
    kind: str
    reverses: strawberry.ID | None = strawberry.field(description="For a reversal: the transfer it undoes.")
    created_at: datetime

    @classmethod
    def of(cls, state: TransferState) -> Transfer:
        return cls(
            id=strawberry.ID(str(state.id)),
            from_=strawberry.ID(str(state.from_)) if state.from_ else None,
            to=strawberry.ID(str(state.to)) if state.to else None,
            asset=state.asset,
            amount=Amount(state.amount),
            memo=state.memo,
            kind=state.kind,
            reverses=strawberry.ID(str(state.reverses)) if state.reverses else None,
            created_at=state.created_at,
        )


@strawberry.type(description="The caller's wallet.")
class Wallet:
    entity_id: strawberry.ID

    @strawberry.field(description="Balances by asset code (zero balances may be left out).")
    def balances(self) -> list[Balance]:
        found = wallets.balances(UUID(str(self.entity_id)))
        return [
            Balance(
                asset=b.asset,
                amount=Amount(b.amount),
                held=Amount(b.held),
                available=Amount(b.available),
                scale=b.scale,
            )
            for b in found
        ]

    @strawberry.field(description="The caller's holds, newest first (as payer or payee, of one status, if given).")
    def holds(
        self,
        first: FIRST = None,
        after: str | None = None,
        role: HoldRole | None = None,
        status: HoldStatus | None = None,
    ) -> Connection[Hold] | None:
        owner = UUID(str(self.entity_id))
        as_role, in_status = filters(role, status)
        page, more = holds.holds_page(owner, as_role, in_status, page_size(first), checked_cursor(after))
        return connection(page, more, lambda h: hold_cursor(h, owner, as_role, in_status), Hold.of)

    @strawberry.field(description="The caller's transfers, newest first (of one asset, if given).")
    def transfers(
        self,
        first: FIRST = None,
        after: str | None = None,
        asset: str | None = None,
    ) -> Connection[Transfer] | None:
        if asset is not None and not ASSET_CODE.fullmatch(asset):
            raise InvalidRequest(
                "asset is not an asset code.",
                errors=[{"loc": ["asset"], "msg": "Invalid asset code", "type": "value_error"}],
            )
        owner = UUID(str(self.entity_id))
        page, more = wallets.history_page(owner, asset, page_size(first), checked_cursor(after))
        return connection(page, more, lambda t: transfer_cursor(t, owner, asset), Transfer.of)
