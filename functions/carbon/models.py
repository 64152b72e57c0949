"""Carbon's request bodies."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from shared.contracts.carbon import GrantableRole, GroupDescription, GroupName, Visibility
from shared.contracts.rhenium import MessageBody
from shared.validation import Amount, AssetCode, NotBlank

Name = Annotated[GroupName, NotBlank]


class CreateGroupBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    description: GroupDescription | None = None
    visibility: Visibility = "public"


class UpdateGroupBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Absent: unchanged. A group always has a name and a visibility, so null is refused for them;
    # a null description clears it.
    name: Name = None  # type: ignore[assignment]
    description: GroupDescription | None = None
    visibility: Visibility = None  # type: ignore[assignment]


class AddMemberBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entity_id: UUID
    role: GrantableRole = "member"


class RoleBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: GrantableRole


class OwnerBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entity_id: UUID


class BroadcastBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: MessageBody


class DistributeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    asset: AssetCode
    amount_each: Amount
