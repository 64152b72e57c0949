"""Rhenium's request bodies."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from shared.contracts.rhenium import MessageBody


class SendMessageBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to_entity: UUID
    body: MessageBody


class BroadcastBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: MessageBody


class TicketOut(BaseModel):
    """A single-use ticket for one WebSocket connection: connect to ``url`` with ``?ticket=``."""

    ticket: str
    url: str
    expires_at: datetime
