"""Nickel's request bodies."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, ConfigDict

from shared.contracts.nickel import AssetName, Memo, Scale
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
