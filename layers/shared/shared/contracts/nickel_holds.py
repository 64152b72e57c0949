"""Nickel's holds (two-phase transfers): their state on the change feed, Fluorine's commands, the answers.

A hold reserves ``amount`` of the payer's available balance for the payee until it resolves, once:
captured (by the payee, at most the held amount, posted as a ``capture`` transfer; the rest is
released), voided (by either party) or expired (by the sweeper, from ``expires_at`` on; nothing
captures or voids it after that moment, swept or not). Aggregate ``hold#<id>``: ``HoldPlaced``
(version 1), then one of ``HoldCaptured``, ``HoldVoided``, ``HoldExpired`` (version 2).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.changes import Idempotency
from shared.contracts.nickel import Payment
from shared.validation import Amount

HoldStatus = Literal["pending", "captured", "voided", "expired"]
HoldRole = Literal["payer", "payee"]
HOLD_EVENTS: dict[HoldStatus, str] = {
    "pending": "HoldPlaced",
    "captured": "HoldCaptured",
    "voided": "HoldVoided",
    "expired": "HoldExpired",
}
MIN_EXPIRES_IN, MAX_EXPIRES_IN, DEFAULT_EXPIRES_IN = 60, 604_800, 86_400  # seconds: a minute .. a week
ExpiresIn = Annotated[int, Field(ge=MIN_EXPIRES_IN, le=MAX_EXPIRES_IN, strict=True)]
EXPIRY_BATCH = 500  # holds the sweeper expires per transaction


def hold_aggregate(hold_id: UUID | str) -> str:
    return f"hold#{hold_id}"


class HoldState(BaseModel):
    """A hold after its latest change (every hold event's payload); serialized with ``from`` as its key."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    id: UUID
    from_: UUID = Field(alias="from")
    to: UUID
    asset: str
    amount: int
    captured: int = 0
    status: HoldStatus
    memo: str | None = None
    expires_at: datetime
    created_at: datetime
    version: int = Field(default=1, ge=1)

    def role_of(self, entity_id: UUID) -> HoldRole | None:
        """The entity's part in the hold, or None if it is neither party."""
        return "payer" if entity_id == self.from_ else "payee" if entity_id == self.to else None


class PlaceHold(Payment):
    """Reserve ``amount`` of ``from_entity``'s available balance for ``to``, until ``expires_in`` seconds pass."""

    command: Literal["place_hold"] = "place_hold"
    expires_in: ExpiresIn = DEFAULT_EXPIRES_IN


class CaptureHold(BaseModel):
    """The payee takes ``amount`` of a pending hold (all of it by default) as transfer ``id``."""

    command: Literal["capture_hold"] = "capture_hold"
    id: UUID
    hold_id: UUID
    payee: UUID
    amount: Amount | None = None
    idempotency: Idempotency | None = None


class VoidHold(BaseModel):
    """Release a pending hold entirely, by its payer or its payee (``by``)."""

    command: Literal["void_hold"] = "void_hold"
    hold_id: UUID
    by: UUID
    idempotency: Idempotency | None = None


class ExpireHolds(BaseModel):
    """The sweeper's step: expire up to ``limit`` pending holds past ``expires_at`` (a system command)."""

    command: Literal["expire_holds"] = "expire_holds"
    limit: int = Field(default=EXPIRY_BATCH, ge=1, le=10_000)


class HoldsExpired(BaseModel):
    expired: int


class HoldOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    id: UUID
    from_: UUID = Field(alias="from", description="The payer: whose balance the hold reserves.")
    to: UUID = Field(description="The payee: who may capture it.")
    asset: str
    amount: int = Field(description="The amount held.")
    captured: int = Field(description="What the payee captured (0 unless captured).")
    status: HoldStatus
    memo: str | None = None
    expires_at: datetime
    created_at: datetime

    @classmethod
    def of(cls, state: HoldState) -> HoldOut:
        return cls.model_validate(state.model_dump(exclude={"version"}))


class HoldList(BaseModel):
    items: list[HoldOut]
    next_cursor: str | None = None
