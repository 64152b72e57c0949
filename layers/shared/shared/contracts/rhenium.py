"""Rhenium's contracts: message and read state on the change feed, and Fluorine's commands."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID, uuid5

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shared.contracts.changes import Idempotency
from shared.validation import NotBlank

MessageBody = Annotated[str, StringConstraints(min_length=1, max_length=4000), NotBlank]
MESSAGE_SENT = "MessageSent"  # a message entered inboxes (its recipient's, or its audience's)
# System messages about a transfer get an id derived from the transfer's: a redelivered
# change-feed record maps to the same message, which is written only once.
SYSTEM_MESSAGE_NAMESPACE = UUID("6d3c3f0e-4b43-5c8e-9a51-0c2f6f0e7a11")


def system_message_id(source: str) -> UUID:
    return uuid5(SYSTEM_MESSAGE_NAMESPACE, source)


def transfer_message_id(transfer_id: UUID | str) -> UUID:
    """The id of the system message that tells a transfer's recipient (a derived write: see
    docs/architecture.md, "Derived writes"): the trigger writes it, maintenance re-derives it."""
    return system_message_id(f"transfer:{transfer_id}")


def message_aggregate(message_id: UUID | str) -> str:
    return f"message#{message_id}"


def read_aggregate(message_id: UUID | str, entity_id: UUID | str) -> str:
    return f"read#{message_id}:{entity_id}"


BROADCAST_FANNED_OUT = "BroadcastFannedOut"  # a batch of a group broadcast's copies, one per member
FANOUT_BATCH = 1000  # recipients per fan-out event: ~40 KB of ids, far under a feed item's 400 KB


def fanout_aggregate(message_id: UUID | str, batch: int) -> str:
    return f"fanout#{message_id}:{batch}"


UNREAD_COUNTED = "UnreadCounted"  # an entity's unread count, as migration 0026 first counted it


def unread_aggregate(entity_id: UUID | str) -> str:
    return f"unread#{entity_id}"


class InboxCount(BaseModel):
    """How many messages of the entity's own inbox partition (direct and system messages, copies
    of live groups' broadcasts) it has not read, kept by Fluorine in the transactions that change
    it (``inbox_counts``). ``version`` rises by one with every change: the events that change it
    carry the new value and version, and the read side keeps the highest version it sees."""

    entity_id: UUID
    unread: int
    version: int = Field(ge=1)


COPIES_WITHDRAWN = "CopiesWithdrawn"  # a deleted group's unread copies left these members' counts


def withdrawal_aggregate(group_id: UUID | str, batch: int) -> str:
    return f"withdrawal#{group_id}:{batch}"


class MessageState(BaseModel):
    """A message as written (messages never change); exactly one audience is set."""

    id: UUID
    sender_id: UUID | None = None
    to_entity: UUID | None = None
    to_group: UUID | None = None
    to_all: bool = False
    body: str
    sent_at: datetime
    version: int = Field(default=1, ge=1)
    # A direct or system message: its recipient's unread count with it (absent on other messages,
    # and on those sent before the counts were kept).
    inbox: InboxCount | None = None


class MessageKey(BaseModel):
    """Where a message sits in inboxes (its audience) and when it was sent: what a read mark needs
    to be counted against the inbox it belongs to, without reading the message."""

    to_entity: UUID | None = None
    to_group: UUID | None = None
    to_all: bool = False
    sent_at: datetime
    # A group broadcast the reader holds as a copy in its own inbox (fanned out to its membership).
    delivered: bool = False


class ReadState(BaseModel):
    message_id: UUID
    entity_id: UUID
    read_at: datetime
    # The message read (absent from read marks written before unread counts existed: those are
    # not counted, see francium.views.messages.unread_count).
    message: MessageKey | None = None
    version: int = Field(default=1, ge=1)
    # The reader's unread count, when this read mark moved it (a message of its own partition).
    inbox: InboxCount | None = None


class SendMessage(BaseModel):
    command: Literal["send_message"] = "send_message"
    id: UUID
    sender_id: UUID
    to_entity: UUID
    body: MessageBody
    idempotency: Idempotency | None = None


class SendPlatformBroadcast(BaseModel):
    command: Literal["send_platform_broadcast"] = "send_platform_broadcast"
    id: UUID
    sender_id: UUID
    body: MessageBody


class SendGroupBroadcast(BaseModel):
    """Carbon's broadcast: the actor must be the group's owner or an admin."""

    command: Literal["send_group_broadcast"] = "send_group_broadcast"
    id: UUID
    group_id: UUID
    actor_id: UUID
    body: MessageBody


class SendSystemMessage(BaseModel):
    """A message from the platform itself; written at most once per ``id``."""

    command: Literal["send_system_message"] = "send_system_message"
    id: UUID
    to_entity: UUID
    body: MessageBody


class FanOutBroadcast(BaseModel):
    """Rhenium's trigger, for a group broadcast on the change feed: copy it into the inbox of every
    fanned membership that covered the moment it was sent (once per message)."""

    command: Literal["fan_out_broadcast"] = "fan_out_broadcast"
    message_id: UUID


LIVE_AUDIENCE_PAGE = 5000  # a group broadcast's readers per page (~190 KB of JSON)


class LiveAudience(BaseModel):
    """Rhenium's trigger, pushing a group broadcast live: who finds it in their inbox, read where
    joins and leaves are written, so a member whose join the read cache has not seen yet is not
    missed. A page of them, in entity order, after ``after``."""

    command: Literal["live_audience"] = "live_audience"
    message_id: UUID
    after: UUID | None = None
    limit: int = Field(default=LIVE_AUDIENCE_PAGE, ge=1, le=LIVE_AUDIENCE_PAGE)


class Readers(BaseModel):
    """A page of a group broadcast's readers (none once its group is deleted), in entity order;
    ``more``: the next page starts after the last of them."""

    entities: list[UUID]
    more: bool = False


class FanOut(BaseModel):
    """What a fan-out did: ``already`` when an earlier one of the same message had done it."""

    message_id: UUID
    recipients: int = Field(ge=0)
    batches: int = Field(ge=0)
    already: bool = False


class FanoutBatch(BaseModel):
    """One ``BroadcastFannedOut`` event: the message and up to ``FANOUT_BATCH`` of its recipients.
    Immutable (version 1): its projection writes one copy per recipient."""

    message: MessageState
    batch: int = Field(ge=0)
    recipients: list[UUID]
    version: int = Field(default=1, ge=1)
    # The recipients' unread counts with their copy (those who had read it already are not moved;
    # none when the group was deleted before the fan-out).
    counts: list[InboxCount] = Field(default_factory=list)


class Withdrawal(BaseModel):
    """One ``CopiesWithdrawn`` event of a deleted group, emitted with its deletion: up to
    ``FANOUT_BATCH`` of the unread counts its deletion moved (each holder's unread copies of its
    broadcasts taken off). Immutable (version 1)."""

    group_id: UUID
    batch: int = Field(ge=0)
    counts: list[InboxCount]
    version: int = Field(default=1, ge=1)


class MarkRead(BaseModel):
    command: Literal["mark_read"] = "mark_read"
    message_id: UUID
    entity_id: UUID


class ToEntity(BaseModel):
    entity_id: UUID


class ToGroup(BaseModel):
    group_id: UUID


class ToAll(BaseModel):
    all: Literal[True] = True


class MessageOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    id: UUID
    from_: UUID | None = Field(alias="from")
    to: ToEntity | ToGroup | ToAll
    body: str
    sent_at: datetime
    read: bool

    @classmethod
    def of(cls, state: MessageState, *, read: bool = False) -> MessageOut:
        to: ToEntity | ToGroup | ToAll
        if state.to_entity is not None:
            to = ToEntity(entity_id=state.to_entity)
        elif state.to_group is not None:
            to = ToGroup(group_id=state.to_group)
        else:
            to = ToAll()
        fields = {"id": state.id, "from": state.sender_id, "to": to, "body": state.body, "sent_at": state.sent_at}
        return cls.model_validate({**fields, "read": read})


class MessageList(BaseModel):
    items: list[MessageOut]
    next_cursor: str | None = None


class UnreadCount(BaseModel):
    unread: int = Field(ge=0, description="How many messages of the caller's inbox are unread.")
