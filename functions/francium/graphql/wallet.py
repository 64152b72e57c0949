"""GraphQL types of Nickel's reads: assets, the caller's wallet and transfer history.

Amounts are 64-bit (up to 2^63-1): GraphQL's Int is 32-bit, so they travel as the ``Amount``
scalar, a JSON integer like REST's.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, NewType
from uuid import UUID

import strawberry

from francium.graphql.connections import Connection, checked_cursor, connection, page_size
from francium.graphql.paging import transfer_cursor
from francium.views import wallets
from shared.contracts.nickel import AssetState, TransferState
from shared.errors import InvalidRequest
from shared.validation import ASSET_CODE_PATTERN

ASSET_CODE = re.compile(ASSET_CODE_PATTERN)


def _amount(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("Amount must be an integer")
    return value


Amount = NewType("Amount", int)
AMOUNT_SCALAR = strawberry.scalar(
    name="Amount",
    description="An amount in the asset's minor units: a JSON integer up to 9223372036854775807.",
    serialize=int,
    parse_value=_amount,
)


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
    amount: Amount
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
            created_at=state.created_at,
        )


@strawberry.type(description="The caller's wallet.")
class Wallet:
    entity_id: strawberry.ID

    @strawberry.field(description="Balances by asset code (zero balances may be left out).")
    def balances(self) -> list[Balance]:
        found = wallets.balances(UUID(str(self.entity_id)))
        return [Balance(asset=b.asset, amount=Amount(b.amount), scale=b.scale) for b in found]

    @strawberry.field(description="The caller's transfers, newest first (of one asset, if given).")
    def transfers(
        self,
        first: Annotated[int | None, strawberry.argument(description="Page size, 1..100 (default 20).")] = None,
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
