"""Oxygen's request bodies."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from shared.context import EntityKind
from shared.validation import DisplayName, Email, Handle, Password


class RegisterBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: EntityKind
    handle: Handle
    display_name: DisplayName
    email: Email | None = None
    password: Password
