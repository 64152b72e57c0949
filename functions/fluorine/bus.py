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
from uuid import UUID

import psycopg
from psycopg import errors as pg_errors
from pydantic import BaseModel, ValidationError

from fluorine import idempotency
from fluorine.authority import Authority, authorize
from fluorine.db import connection
from fluorine.uow import KeyToClaim, UnitOfWork
from shared import write_versions
from shared.contracts.changes import AggregateVersion, ChangeRecord, Idempotency
from shared.errors import AppError, InvalidRequest, field_errors
from shared.internal import Actor
from shared.observability import logger

CommandT = TypeVar("CommandT", bound=BaseModel)
Handler = Callable[[Any, UnitOfWork], BaseModel]
RETRYABLE = (pg_errors.SerializationFailure, pg_errors.DeadlockDetected)
MAX_ATTEMPTS = 6
NOT_POSTED = "nickel: not posted"  # what a gated lean statement raises when it did not post (0013)


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
        return _run_keyed_lean(registered, command, idem, conn, actor)
    refused: AppError | None = None
    with UnitOfWork(conn, subject_of(actor)) as uow:
        authorize(uow, registered.authority, actor, command, registered.acts_as)
        stored = idempotency.claim(uow, idem, str(getattr(command, "command", "")))
        if stored is not None:
            return _replayed(stored)
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


def _replayed(stored: idempotency.StoredAnswer, subject: UUID | None = None) -> Outcome:
    """The key's first answer again: its refusal raised, or its result with no new records."""
    replay = idempotency.replayed_refusal(stored)
    if replay is not None:
        raise replay
    return Outcome(stored.result, [], stored.token(subject), replayed=True)


def _run_keyed_lean(
    registered: Registered, command: BaseModel, idem: Idempotency, conn: psycopg.Connection, actor: Actor | None
) -> Outcome:
    """A keyed command whose handler claims its key in its own statement: in one autocommit
    statement if it posts, else (a refusal, a replay, a caller the check refuses: nothing of that
    statement was kept) the transactional way, which gives the real answer."""
    posted = _run_in_one_statement(registered, command, idem, conn, actor)
    return posted if posted is not None else _run_keyed_lean_tx(registered, command, idem, conn, actor)


def _run_in_one_statement(
    registered: Registered, command: BaseModel, idem: Idempotency, conn: psycopg.Connection, actor: Actor | None
) -> Outcome | None:
    """The command as one autocommit statement (0013): the caller check gating the handler's lean
    function. Its outcome if it posted; None if it did not (the statement failed: nothing kept).

    No BEGIN and no COMMIT round trip, and no client round trip while locks are held. A connection
    lost during the statement leaves its outcome unknown, but the command is keyed: run again, it
    finds the key and replays the first answer (whose events the sweeper publishes) or posts once.
    """
    if actor is None or actor.session_id is None or registered.authority not in (Authority.CALLER, Authority.ADMIN):
        return None
    if registered.acts_as is not None and getattr(command, registered.acts_as) != actor.entity_id:
        return None
    uow = UnitOfWork(conn, subject_of(actor))  # not entered: no transaction block
    uow.key = KeyToClaim(idem.caller_id, idem.key, idem.fingerprint, str(getattr(command, "command", "")))
    uow.gate = (actor.session_id, actor.entity_id, registered.authority is Authority.ADMIN)
    previous, conn.autocommit = conn.autocommit, True
    try:
        result = registered.handle(command, uow).model_dump(mode="json")
    except (idempotency.KeyAlreadyUsed, AppError):
        return None  # a replay, or a refusal decided before the statement: answered the transactional way
    except pg_errors.RaiseException as exc:
        if NOT_POSTED in str(exc):
            return None
        raise
    finally:
        if not conn.broken:
            conn.autocommit = previous
    return Outcome(result, uow.records, write_version_of(uow))


def _run_keyed_lean_tx(
    registered: Registered, command: BaseModel, idem: Idempotency, conn: psycopg.Connection, actor: Actor | None
) -> Outcome:
    """``_run_keyed`` for a handler that claims its key in its own statement (issue 14).

    The same answers as ``_run_keyed`` with fewer round trips while locks are held: the claim
    and the first answer ride in the handler's statement (the token, an HMAC, is signed here from
    the versions kept with the key, the same on every replay), and as the handler refuses only
    before it writes, a refusal leaves nothing but the claimed key to keep
    with it (no savepoint). A refusal raised before the handler reached its statement (a check on
    the command alone) claims the key here.
    """
    name = str(getattr(command, "command", ""))
    refused: AppError | None = None
    with UnitOfWork(conn, subject_of(actor)) as uow:
        authorize(uow, registered.authority, actor, command, registered.acts_as)
        uow.key = KeyToClaim(idem.caller_id, idem.key, idem.fingerprint, name)
        try:
            result = registered.handle(command, uow).model_dump(mode="json")
        except idempotency.KeyAlreadyUsed:
            return _replayed(idempotency.stored_answer(uow, idem, name), uow.subject)
        except AppError as refusal:
            if refusal.status >= 500:
                raise
            uow.records = []
            stored = None if uow.key_claimed else idempotency.claim(uow, idem, name)
            if stored is not None:
                return _replayed(stored, uow.subject)
            refused = refusal
            idempotency.remember_refusal(uow, idem, refusal)
        else:
            version = write_version_of(uow)
            if not uow.key_answered:  # a lean function keeps its result and versions with the key itself
                idempotency.remember(uow, idem, result, version)
    if refused is not None:
        raise refused
    return Outcome(result, uow.records, version)


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
