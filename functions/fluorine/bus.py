"""The command bus: finds the handler of a typed command and runs it in one transaction.

Serialization failures and deadlocks are retried here, inside Fluorine, so they never reach a
client; business refusals are ``AppError``s and roll the whole transaction back.

A dead connection is retried too, on a new one, but only when the transaction certainly did not
commit: the connection broke before COMMIT was sent (found dead at BEGIN or at any statement, as
after RDS Proxy dropped an idle client), so PostgreSQL rolled it back. A connection lost while
COMMIT was in flight is ``CommitOutcomeUnknown``: it is answered as an error, never retried.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg
from psycopg import errors as pg_errors
from pydantic import BaseModel, ValidationError

from fluorine import idempotency
from fluorine.db import connection
from fluorine.uow import UnitOfWork
from shared.contracts.changes import AggregateVersion, ChangeRecord, Idempotency, encode_write_version
from shared.errors import AppError, InvalidRequest, field_errors
from shared.observability import logger

CommandT = TypeVar("CommandT", bound=BaseModel)
Handler = Callable[[Any, UnitOfWork], BaseModel]
RETRYABLE = (pg_errors.SerializationFailure, pg_errors.DeadlockDetected)
MAX_ATTEMPTS = 6


@dataclass(frozen=True)
class Registered:
    model: type[BaseModel]
    handle: Handler


HANDLERS: dict[str, Registered] = {}


def command_handler(
    model: type[CommandT],
) -> Callable[[Callable[[CommandT, UnitOfWork], BaseModel]], Callable[[CommandT, UnitOfWork], BaseModel]]:
    """Register the decorated function as the handler of ``model`` (keyed by its ``command`` name)."""
    name = model.model_fields["command"].default

    def register(fn: Callable[[CommandT, UnitOfWork], BaseModel]) -> Callable[[CommandT, UnitOfWork], BaseModel]:
        if name in HANDLERS:
            raise RuntimeError(f"two handlers for command {name}")
        HANDLERS[name] = Registered(model, fn)
        return fn

    return register


def parse(raw: dict[str, Any]) -> tuple[Registered, BaseModel]:
    from fluorine.commands import load_all

    load_all()  # once: Python caches the imports
    registered = HANDLERS.get(str(raw.get("command")))
    if registered is None:
        raise InvalidRequest(f"unknown command {raw.get('command')!r}")
    try:
        return registered, registered.model.model_validate(raw)
    except ValidationError as exc:
        raise InvalidRequest("The command is not valid.", errors=field_errors(exc.errors())) from exc


@dataclass(frozen=True)
class Outcome:
    result: dict[str, Any]
    records: list[ChangeRecord]
    write_version: str | None
    replayed: bool = False


MAX_TOKEN_AGGREGATES = 32  # ~3 KB of header at most (API Gateway allows 10 KB of headers)


def write_version_of(records: list[ChangeRecord], tracked: list[str] | None = None) -> str | None:
    """The write version token: the tracked aggregates' versions (every emitted one by default)."""
    latest = {r.aggregate: r.version for r in records}
    names = [a for a in dict.fromkeys(tracked) if a in latest] if tracked is not None else list(latest)
    versions = [AggregateVersion(aggregate=a, version=latest[a]) for a in names[:MAX_TOKEN_AGGREGATES]]
    return encode_write_version(versions) or None


def _run_once(registered: Registered, command: BaseModel, conn: psycopg.Connection) -> Outcome:
    idem: Idempotency | None = getattr(command, "idempotency", None)
    if idem is None:
        with UnitOfWork(conn) as uow:
            result = registered.handle(command, uow).model_dump(mode="json")
            version = write_version_of(uow.records, uow.read_your_writes)
        return Outcome(result, uow.records, version)
    return _run_keyed(registered, command, idem, conn)


def _run_keyed(registered: Registered, command: BaseModel, idem: Idempotency, conn: psycopg.Connection) -> Outcome:
    """A command under an Idempotency-Key: its first answer, a result or a refusal, is kept and replayed.

    The handler runs in a savepoint, so a refusal undoes its writes but keeps the claimed key,
    which commits with the refusal; the refusal is then raised as the answer.
    """
    refused: AppError | None = None
    with UnitOfWork(conn) as uow:
        stored = idempotency.claim(uow, idem, str(getattr(command, "command", "")))
        if stored is not None:
            replay = idempotency.replayed_refusal(stored)
            if replay is not None:
                raise replay
            return Outcome(stored.result, [], stored.write_version, replayed=True)
        try:
            with conn.transaction():
                result = registered.handle(command, uow).model_dump(mode="json")
        except AppError as refusal:
            if refusal.status >= 500:
                raise
            refused, uow.records = refusal, []
            idempotency.remember_refusal(uow, idem, refusal)
        else:
            version = write_version_of(uow.records, uow.read_your_writes)
            idempotency.remember(uow, idem, result, version)
    if refused is not None:
        raise refused
    return Outcome(result, uow.records, version)


def execute(raw: dict[str, Any], conn: psycopg.Connection | None = None) -> Outcome:
    """Run one command to commit (or replay its first answer); what to answer and what to publish."""
    registered, command = parse(raw)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        current = conn or connection()  # a new connection once the last one broke
        try:
            return _run_once(registered, command, current)
        except RETRYABLE:
            if attempt == MAX_ATTEMPTS:
                raise
            time.sleep(min(0.2, 0.005 * 2**attempt))
        except pg_errors.DataError as exc:  # class 22: a value PostgreSQL cannot store is the client's input
            raise InvalidRequest(f"A value cannot be stored: {exc.diag.message_primary}") from exc
        except psycopg.OperationalError:
            # Broken before COMMIT was sent (CommitOutcomeUnknown is not an OperationalError):
            # nothing of this attempt committed, so it runs again on a new connection.
            if conn is not None or not current.broken or attempt == MAX_ATTEMPTS:
                raise
            logger.warning(
                "database connection lost before commit; running the command again", extra={"attempt": attempt}
            )
    raise AssertionError("unreachable")
