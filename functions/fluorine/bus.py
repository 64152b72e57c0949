"""The command bus: finds the handler of a typed command and runs it in one transaction.

Serialization failures and deadlocks are retried here, inside Fluorine, so they never reach a
client; business refusals are ``AppError``s and roll the whole transaction back.

A dead connection is retried too, on a new one, but only when the transaction certainly did not
commit: the connection broke before COMMIT was sent (found dead at BEGIN or at any statement, as
after RDS Proxy dropped an idle client), so PostgreSQL rolled it back. A connection lost while
COMMIT was in flight is ``CommitOutcomeUnknown``: it is answered as an error, never retried.
(A keyed lean posting runs as one autocommit statement, ``fluorine.lean``: lost during it, it is
run again, and its key replays the committed answer if there is one.)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID

import psycopg
from psycopg import errors as pg_errors
from pydantic import BaseModel, ValidationError

from fluorine import idempotency
from fluorine.authority import Authority, authorize
from fluorine.db import connection
from fluorine.uow import UnitOfWork
from shared import write_versions
from shared.contracts.changes import AggregateVersion, ChangeRecord, Idempotency
from shared.errors import AppError, InvalidRequest, field_errors
from shared.internal import Actor
from shared.observability import logger

CommandT = TypeVar("CommandT", bound=BaseModel)
Handler = Callable[[Any, UnitOfWork], BaseModel]
RETRYABLE = (pg_errors.SerializationFailure, pg_errors.DeadlockDetected)
MAX_ATTEMPTS = 6


@dataclass(frozen=True)
class Registered:
    model: type[BaseModel]
    handle: Handler
    authority: Authority
    acts_as: str | None
    claims_key: bool = False


HANDLERS: dict[str, Registered] = {}


def command_handler(
    model: type[CommandT],
    *,
    authority: Authority = Authority.CALLER,
    acts_as: str | None = None,
    claims_key: bool = False,
) -> Callable[[Callable[[CommandT, UnitOfWork], BaseModel]], Callable[[CommandT, UnitOfWork], BaseModel]]:
    """Register the decorated function as the handler of ``model`` (keyed by its ``command`` name).

    ``authority`` is what the actor must hold, checked in the command's transaction before the
    handler runs (a signed-in caller unless said otherwise); ``acts_as`` names the field that must
    be the actor's own entity id. ``claims_key``: the handler claims the command's Idempotency-Key
    itself, in the statement that does its work (``uow.key``), and refuses only before it writes
    anything else, so the bus needs no separate claim and no savepoint (``_run_keyed_lean``).
    """
    name = model.model_fields["command"].default
    if acts_as is not None and acts_as not in model.model_fields:
        raise RuntimeError(f"{name}: acts_as names no field {acts_as!r}")

    def register(fn: Callable[[CommandT, UnitOfWork], BaseModel]) -> Callable[[CommandT, UnitOfWork], BaseModel]:
        if name in HANDLERS:
            raise RuntimeError(f"two handlers for command {name}")
        HANDLERS[name] = Registered(model, fn, authority, acts_as, claims_key)
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


def write_version_of(uow: UnitOfWork) -> str | None:
    """The write version token, issued to the unit of work's subject: the tracked aggregates'
    versions (every emitted one, and those left in place, by default)."""
    latest = {**uow.unchanged, **{r.aggregate: r.version for r in uow.records}}
    tracked = uow.read_your_writes
    names = [a for a in dict.fromkeys(tracked) if a in latest] if tracked is not None else list(latest)
    versions = [AggregateVersion(aggregate=a, version=latest[a]) for a in names[:MAX_TOKEN_AGGREGATES]]
    if uow.subject is None or not versions:
        return None
    return write_versions.issue(versions, uow.subject)


def subject_of(actor: Actor | None) -> UUID | None:
    return actor.entity_id if actor is not None else None


def _run_once(registered: Registered, command: BaseModel, conn: psycopg.Connection, actor: Actor | None) -> Outcome:
    idem: Idempotency | None = getattr(command, "idempotency", None)
    if idem is None:
        with UnitOfWork(conn, subject_of(actor)) as uow:
            authorize(uow, registered.authority, actor, command, registered.acts_as)
            result = registered.handle(command, uow).model_dump(mode="json")
            version = write_version_of(uow)
        return Outcome(result, uow.records, version)
    return _run_keyed(registered, command, idem, conn, actor)


def _run_keyed(
    registered: Registered, command: BaseModel, idem: Idempotency, conn: psycopg.Connection, actor: Actor | None
) -> Outcome:
    """A command under an Idempotency-Key: its first answer, a result or a refusal, is kept and replayed.

    The handler runs in a savepoint, so a refusal undoes its writes but keeps the claimed key,
    which commits with the refusal; the refusal is then raised as the answer. An actor without
    the authority is refused before the key is claimed: that refusal is not the key's answer.
    """
    if registered.claims_key:
        from fluorine.lean import run_keyed_lean  # here: fluorine.lean builds on this module

        return run_keyed_lean(registered, command, idem, conn, actor)
    refused: AppError | None = None
    with UnitOfWork(conn, subject_of(actor)) as uow:
        authorize(uow, registered.authority, actor, command, registered.acts_as)
        stored = idempotency.claim(uow, idem, str(getattr(command, "command", "")))
        if stored is not None:
            return replayed(stored)
        try:
            with conn.transaction():
                result = registered.handle(command, uow).model_dump(mode="json")
        except AppError as refusal:
            if refusal.status >= 500:
                raise
            refused, uow.records = refusal, []
            idempotency.remember_refusal(uow, idem, refusal)
        else:
            version = write_version_of(uow)
            idempotency.remember(uow, idem, result, version)
    if refused is not None:
        raise refused
    return Outcome(result, uow.records, version)


def replayed(stored: idempotency.StoredAnswer, subject: UUID | None = None) -> Outcome:
    """The key's first answer again: its refusal raised, or its result with no new records."""
    replay = idempotency.replayed_refusal(stored)
    if replay is not None:
        raise replay
    return Outcome(stored.result, [], stored.token(subject), replayed=True)


def execute(raw: dict[str, Any], conn: psycopg.Connection | None = None, actor: Actor | None = None) -> Outcome:
    """Run one command for ``actor`` to commit (or replay its first answer); what to answer and publish."""
    registered, command = parse(raw)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        current = conn or connection()  # a new connection once the last one broke
        try:
            return _run_once(registered, command, current, actor)
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
