"""The unit of work: one PostgreSQL transaction holding the command's changes and its outbox rows."""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar
from uuid import UUID

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb
from pydantic import BaseModel

from fluorine.db import CommitOutcomeUnknown
from shared.contracts.changes import ChangeRecord
from shared.observability import correlation_id

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class KeyToClaim:
    """The Idempotency-Key a handler claims in its own statement (``command_handler(claims_key=True)``)."""

    caller_id: str
    key: str
    fingerprint: str
    command: str


class UnitOfWork:
    """``with UnitOfWork(conn) as uow:`` commits on success and rolls back on any exception."""

    def __init__(self, conn: psycopg.Connection, subject: UUID | None = None) -> None:
        self.conn = conn
        self.records: list[ChangeRecord] = []
        self.read_your_writes: list[str] | None = None
        self.unchanged: dict[str, int] = {}
        self.subject = subject  # whom the write version token is issued to (the actor, by default)
        self.key: KeyToClaim | None = None  # a key for the handler to claim in its own statement
        self.key_claimed = False  # whether it did
        self.key_answered = False  # whether that statement also kept the answer with the key
        self.gate: tuple[UUID, UUID, bool] | None = None  # (session, entity, admin): the caller check to run in it
        self._tx: Any = None

    def __enter__(self) -> UnitOfWork:
        self.records = []
        self.read_your_writes = None
        self.unchanged = {}
        self._tx = self.conn.transaction()
        self._tx.__enter__()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is not None:
            self._tx.__exit__(exc_type, exc, tb)
            self.records = []
            return
        try:
            self._tx.__exit__(None, None, None)  # COMMIT
        except psycopg.OperationalError as error:
            self.records = []
            if self.conn.broken:  # no answer to COMMIT: it may have committed or not
                raise CommitOutcomeUnknown("the database connection was lost during COMMIT") from error
            raise  # the server answered: it rolled back (a serialization failure, say)

    def execute(self, query: str, params: Any = None) -> psycopg.Cursor[Any]:
        return self.conn.execute(query, params)  # type: ignore[arg-type]  # queries are built from constants

    def one(self, model: type[M], query: str, params: Any = None) -> M | None:
        """The first row of ``query`` as ``model`` (its columns named as the model's fields), or None."""
        with self.conn.cursor(row_factory=class_row(model)) as cursor:
            return cursor.execute(query, params).fetchone()  # type: ignore[arg-type]

    def found(self, model: type[M], query: str, params: Any = None) -> M:
        """The first row of ``query`` as ``model``, which must exist (a row just written or locked)."""
        row = self.one(model, query, params)
        if row is None:
            raise RuntimeError(f"no {model.__name__} row: {query[:60]}")
        return row

    def emit(self, aggregate: str, version: int, event_type: str, state: BaseModel) -> ChangeRecord:
        """Record an event (the aggregate's state after the change) in the outbox, in this transaction."""
        payload = state.model_dump(mode="json")
        correlation = correlation_id()
        row = self.execute(
            "INSERT INTO outbox (aggregate, version, event_type, payload, correlation_id) VALUES (%s, %s, %s, %s, %s)"
            " RETURNING seq, occurred_at",
            (aggregate, version, event_type, Jsonb(payload), correlation),
        ).fetchone()
        assert row is not None
        record = ChangeRecord(
            aggregate=aggregate,
            version=version,
            event_type=event_type,
            payload=payload,
            seq=row[0],
            occurred_at=row[1],
            correlation_id=correlation,
        )
        self.records.append(record)
        return record

    def written(self, records: list[dict[str, Any]]) -> None:
        """Record events a server-side function already wrote to the outbox, in this transaction
        (its ``RETURNING`` rows: aggregate, version, event_type, payload, seq, occurred_at)."""
        self.records += [ChangeRecord.model_validate(record) for record in records]

    def track_for_reads(self, *aggregates: str) -> None:
        """Name the aggregates the write version token must cover (default: every one emitted).

        A write that touches many aggregates (a distribution to a whole group) names the few its
        caller reads back, so the token stays small enough for an HTTP header.
        """
        self.read_your_writes = [*(self.read_your_writes or []), *aggregates]

    def left_in_place(self, aggregate: str, version: int) -> None:
        """A write that changed nothing (already read, already a member, a logout of no session)
        still answers a write version: the state it left in place, which its caller may read back."""
        self.unchanged[aggregate] = version

    def issue_token_to(self, entity_id: UUID) -> None:
        """Bind the write version token to ``entity_id`` (a registration: the new entity reads it back)."""
        self.subject = entity_id
