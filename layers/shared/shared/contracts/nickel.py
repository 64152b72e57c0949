"""Nickel's contracts: assets, balances and transfers on the change feed, and Fluorine's commands.

Aggregates: ``asset#<code>`` (``AssetCreated``), ``wallet#<entity>:<asset>`` (one ledger account:
``BalanceChanged``, its version bumped by every posting and every hold placed or resolved) and
``transfer#<id>`` (``TransferPosted``, version 1: transfers are immutable). ``TransferState`` is the
full transfer; ``from`` and ``to`` are entity ids, ``None`` for the asset's issuer side; a reversal
names the transfer it ``reverses``. Holds are in ``shared.contracts.nickel_holds``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shared.contracts.changes import Idempotency
from shared.validation import Amount, AssetCode, DisplayName, NotBlank

AssetName = DisplayName  # the same rule: 1..100 characters, not blank
Scale = Annotated[int, Field(ge=0, le=18, strict=True)]
Memo = Annotated[str, StringConstraints(max_length=280)]
TransferKind = Literal["issue", "transfer", "redeem", "distribution", "capture", "reversal"]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=280), NotBlank]
TRANSFER_POSTED = "TransferPosted"


def asset_aggregate(code: str) -> str:
    return f"asset#{code}"


def wallet_aggregate(entity_id: UUID | str, asset: str) -> str:
    return f"wallet#{entity_id}:{asset}"


def transfer_aggregate(transfer_id: UUID | str) -> str:
    return f"transfer#{transfer_id}"


class AssetState(BaseModel):
    code: str
    name: str
    scale: int
    created_at: datetime
    version: int = Field(default=1, ge=1)


class BalanceState(BaseModel):
    """One entity's balance of one asset (a ledger account), after a posting or a hold's change.

    ``amount`` is what the entity owns, ``held`` what its pending holds reserve of it (absent from
    events older than holds: 0); what it may spend is ``amount - held``.
    """

    entity_id: UUID
    asset: str
    amount: int
    held: int = 0
    scale: int
    version: int = Field(ge=1)

    @property
    def available(self) -> int:
        return self.amount - self.held


class TransferState(BaseModel):
    """A posted transfer (the payload of ``TransferPosted``); serialized with ``from`` as its key."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    id: UUID
    from_: UUID | None = Field(default=None, alias="from")
    to: UUID | None = None
    asset: str
    amount: int
    memo: str | None = None
    kind: TransferKind
    reverses: UUID | None = None  # a reversal: the transfer it undoes
    created_at: datetime
    version: int = Field(default=1, ge=1)


class CreateAsset(BaseModel):
    command: Literal["create_asset"] = "create_asset"
    code: AssetCode
    name: AssetName
    scale: Scale


class IssueAsset(BaseModel):
    """Mint ``amount`` from the asset's issuer side to ``to`` (an active entity)."""

    command: Literal["issue_asset"] = "issue_asset"
    id: UUID
    asset: str
    to: UUID
    amount: Amount
    idempotency: Idempotency | None = None


class RedeemAsset(BaseModel):
    """Return ``amount`` from ``from_entity`` to the asset's issuer side."""

    command: Literal["redeem_asset"] = "redeem_asset"
    id: UUID
    asset: str
    from_entity: UUID
    amount: Amount
    idempotency: Idempotency | None = None


class Payment(BaseModel):
    """The terms of a payer's command: ``from_entity`` pays ``to`` an ``amount`` of ``asset``."""

    id: UUID
    from_entity: UUID
    to: UUID
    asset: str
    amount: Amount
    memo: Memo | None = None
    idempotency: Idempotency | None = None


class PostTransfer(Payment):
    command: Literal["post_transfer"] = "post_transfer"


class DistributeAsset(BaseModel):
    """Pay ``amount_each`` from ``from_entity`` to every recipient, all or nothing, in one transaction.

    For Carbon's group distributions: the caller checks who may distribute. ``from_entity`` is
    left out of ``recipients`` and duplicates count once; deactivated recipients are skipped;
    an unknown recipient or asset is 404, too little balance (or a total above the amount
    bound) is 422. Each payment is a ``kind: "distribution"`` transfer with its own event.
    """

    command: Literal["distribute_asset"] = "distribute_asset"
    idempotency: Idempotency | None = None
    from_entity: UUID
    asset: str
    amount_each: Amount
    recipients: list[UUID] = Field(max_length=10_000)


class ReverseTransfer(BaseModel):
    """Undo transfer ``transfer_id`` with a new, linked transfer of kind ``reversal`` (platform admin).

    The same amount moves back: from the original's recipient (the issuer side for a redemption)
    to its sender (the issuer side for an issue). ``reason`` becomes the reversal's memo. At most
    one reversal per transfer (409), never of a reversal (422), and only from available value (422).
    """

    command: Literal["reverse_transfer"] = "reverse_transfer"
    id: UUID
    transfer_id: UUID
    reason: Reason
    idempotency: Idempotency | None = None


class DistributionResult(BaseModel):
    transfers: int
    total: int


class AssetOut(BaseModel):
    code: str
    name: str
    scale: int
    created_at: datetime

    @classmethod
    def of(cls, state: AssetState) -> AssetOut:
        return cls(code=state.code, name=state.name, scale=state.scale, created_at=state.created_at)


class AssetList(BaseModel):
    items: list[AssetOut]
    next_cursor: str | None = None


class TransferOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    id: UUID
    from_: UUID | None = Field(alias="from")
    to: UUID | None
    asset: str
    amount: int
    memo: str | None = None
    kind: TransferKind
    reverses: UUID | None = Field(default=None, description="For a reversal: the transfer it undoes.")
    created_at: datetime

    @classmethod
    def of(cls, state: TransferState) -> TransferOut:
        return cls.model_validate(state.model_dump(exclude={"version"}))


class TransferList(BaseModel):
    items: list[TransferOut]
    next_cursor: str | None = None


class BalanceOut(BaseModel):
    asset: str
    amount: int = Field(description="What the caller owns.")
    held: int = Field(description="What the caller's pending holds reserve of it.")
    available: int = Field(description="What the caller may spend: amount - held.")
    scale: int

    @classmethod
    def of(cls, state: BalanceState) -> BalanceOut:
        return cls(
            asset=state.asset, amount=state.amount, held=state.held, available=state.available, scale=state.scale
        )


class WalletOut(BaseModel):
    entity_id: UUID
    balances: list[BalanceOut]
