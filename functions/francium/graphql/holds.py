"""GraphQL type of Nickel's holds (the caller's, as ``wallet { holds }`` lists them)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from francium.graphql.scalars import Amount
from shared.contracts import nickel_holds
from shared.contracts.nickel_holds import HoldState


@strawberry.enum(description="Where a hold is in its life.")
class HoldStatus(Enum):
    PENDING = "pending"
    CAPTURED = "captured"
    VOIDED = "voided"
    EXPIRED = "expired"


@strawberry.enum(description="The caller's part in a hold.")
class HoldRole(Enum):
    PAYER = "payer"
    PAYEE = "payee"


def filters(
    role: HoldRole | None, status: HoldStatus | None
) -> tuple[nickel_holds.HoldRole | None, nickel_holds.HoldStatus | None]:
    """The read view's filters for GraphQL's enum arguments (the enums' values are the views' names)."""
    return (role.value if role else None), (status.value if status else None)


@strawberry.type(description="A hold: an amount of the payer's balance reserved for the payee until it resolves.")
class Hold:
    id: strawberry.ID
    from_: strawberry.ID = strawberry.field(name="from", description="The payer.")
    to: strawberry.ID = strawberry.field(description="The payee.")
    asset: str
    amount: Amount
    captured: Amount = strawberry.field(description="What the payee captured (0 unless captured).")
    status: HoldStatus
    memo: str | None
    expires_at: datetime
    created_at: datetime

    @classmethod
    def of(cls, state: HoldState) -> Hold:
        return cls(
            id=strawberry.ID(str(state.id)),
            from_=strawberry.ID(str(state.from_)),
            to=strawberry.ID(str(state.to)),
            asset=state.asset,
            amount=Amount(state.amount),
            captured=Amount(state.captured),
            status=HoldStatus(state.status),
            memo=state.memo,
            expires_at=state.expires_at,
            created_at=state.created_at,
        )
