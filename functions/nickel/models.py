"""Nickel's request bodies."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.nickel import AssetName, Memo, Reason, Scale
from shared.contracts.nickel_holds import DEFAULT_EXPIRES_IN, ExpiresIn
from shared.validation import Amount, AssetCode


class CreateAssetBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: AssetCode
    name: AssetName
    scale: Scale


class IssueBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: UUID
    amount: Amount


class RedeemBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: Amount


class TransferBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: UUID
    asset: AssetCode
    amount: Amount
    memo: Memo | None = None


class HoldBody(TransferBody):
    """A transfer's terms, reserved for the payee until `expires_in` seconds pass."""

    expires_in: ExpiresIn = Field(
        default=DEFAULT_EXPIRES_IN, description="Seconds until the hold expires (60..604800, default a day)."
    )


class CaptureBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: Amount | None = Field(default=None, description="At most the hold's amount; the whole hold by default.")


class ReverseBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason = Field(description="Why the transfer is reversed; the reversal's memo.")
