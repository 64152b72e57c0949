"""Maintenance contracts: what the read side may ask the write side to rebuild or verify itself.

The read side never reads Fluorine's store; it asks Fluorine for the truth through these commands:
the latest committed event of every aggregate (each carries the aggregate's full state), page by
page in aggregate-key order; and the committed events whose derived write (what an event consumer
writes back through Fluorine for them, such as a transfer's system message) is not there.

A reader that finds read-cache items lost or unreadable asks the maintenance function (which may
write the cache) to re-project their aggregates: ``RepairAggregates`` (``shared.repair``).
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from shared.contracts.changes import AGGREGATE_PATTERN, ChangeRecord

MAX_PAGE = 500
MAX_REPAIR = 25  # aggregates one repair may name: a request's worth, never a rebuild
AggregateKey = Annotated[str, Field(pattern=AGGREGATE_PATTERN.pattern)]


class LatestEvents(BaseModel):
    """One page of the latest event of each aggregate, after ``after`` (an aggregate key)."""

    command: Literal["latest_events"] = "latest_events"
    after: str | None = Field(default=None, max_length=256)
    limit: int = Field(default=200, ge=1, le=MAX_PAGE)
    aggregate: str | None = Field(default=None, pattern=AGGREGATE_PATTERN.pattern)  # only this one


class LatestEventsPage(BaseModel):
    records: list[ChangeRecord]
    next_after: str | None = None  # None: this was the last page


class MissingDerivedWrites(BaseModel):
    """One page of the outbox's deriving events (by ``seq``, after ``after``), with those whose
    derived write is missing: an event consumer, re-driven with them, would write it now."""

    command: Literal["missing_derived_writes"] = "missing_derived_writes"
    after: int = Field(default=0, ge=0)  # an outbox seq
    limit: int = Field(default=200, ge=1, le=MAX_PAGE)
    aggregate: str | None = Field(default=None, pattern=AGGREGATE_PATTERN.pattern)  # only this one's events


class MissingDerivedWrite(BaseModel):
    event: ChangeRecord  # the committed event, as the change feed carries it
    derived: str  # the aggregate its consumer writes, e.g. message#<id>


class MissingDerivedWritesPage(BaseModel):
    checked: int  # deriving events examined in this page
    missing: list[MissingDerivedWrite]
    next_after: int | None = None  # None: this was the last page


class RepairAggregates(BaseModel):
    """Re-project these aggregates from their latest committed events (version-conditional, so a
    live projector racing it never regresses); their unreadable items are replaced."""

    command: Literal["repair_aggregates"] = "repair_aggregates"
    aggregates: list[AggregateKey] = Field(min_length=1, max_length=MAX_REPAIR)


class Repaired(BaseModel):
    rewritten: int  # cache items written
    unknown: list[str] = Field(default_factory=list)  # aggregates the truth has no event of


class RecountUnread(BaseModel):
    """One page of entities (by id, after ``after``): each one's unread count as Fluorine keeps it
    (``inbox_counts``) against a recount of what is in PostgreSQL. With ``fix``, a wrong count is
    set to the recount (under the count's lock) and published (``UnreadCounted``)."""

    command: Literal["recount_unread"] = "recount_unread"
    after: UUID | None = None
    limit: int = Field(default=MAX_PAGE, ge=1, le=MAX_PAGE)
    fix: bool = False


class WrongCount(BaseModel):
    entity_id: UUID
    kept: int  # the count as it was kept (0 when there was none)
    recounted: int


class RecountedPage(BaseModel):
    checked: int
    wrong: list[WrongCount]
    next_after: UUID | None = None  # None: this was the last page
