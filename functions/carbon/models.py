"""Carbon's request bodies."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

from shared.contracts.carbon import GrantableRole, GroupDescription, GroupName, Visibility
from shared.contracts.rhenium import MessageBody
from shared.validation import ASSET_CODE_PATTERN, Amount


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


Name = Annotated[GroupName, AfterValidator(_not_blank)]


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

    asset: Annotated[str, StringConstraints(pattern=ASSET_CODE_PATTERN)]
    amount_each: Amount
