"""Keyed commands whose handler claims its key in its own statement (``command_handler(claims_key=True)``):
the lean postings of issue 14 (transfer, issue, redeem, placing and capturing a hold).

First as one autocommit statement, the caller check gating the handler's server-side function
(schema/migrations/0023): one round trip, and no client round trip while locks are held. When it
did not post, nothing of it was kept, and the command runs the transactional way, which gives
the real answer (``_run_keyed_lean_tx``: the same answers as the bus's ``_run_keyed``).
"""

from __future__ import annotations

import psycopg
from psycopg import errors as pg_errors
from pydantic import BaseModel

from fluorine import idempotency
from fluorine.authority import Authority, authorize
from fluorine.bus import Outcome, Registered, replayed, subject_of, write_version_of
from fluorine.uow import KeyToClaim, UnitOfWork
from shared.contracts.changes import Idempotency
from shared.errors import AppError
from shared.internal import Actor

NOT_POSTED = "nickel: not posted"  # what a gated lean statement raises when it did not post (0023)


def run_keyed_lean(
    registered: Registered, command: BaseModel, idem: Idempotency, conn: psycopg.Connection, actor: Actor | None
) -> Outcome:
    """A keyed command whose handler claims its key in its own statement: in one autocommit
    statement if it posts, else (a refusal, a replay, a caller the check refuses, its key used by
    a request committing meanwhile: nothing of that statement was kept) the transactional way,
    which gives the real answer."""
    posted = _run_in_one_statement(registered, command, idem, conn, actor)
    if posted is not None:
        return posted
    try:
        return _run_keyed_lean_tx(registered, command, idem, conn, actor)
    except pg_errors.RaiseException as exc:
        if NOT_POSTED not in str(exc):
            raise
        # Its key was used by a request that committed meanwhile (0027): answered as its replay now
        return _run_keyed_lean_tx(registered, command, idem, conn, actor)


def _run_in_one_statement(
    registered: Registered, command: BaseModel, idem: Idempotency, conn: psycopg.Connection, actor: Actor | None
) -> Outcome | None:
    """The command as one autocommit statement (0023): the caller check gating the handler's lean
    function. Its outcome if it posted; None if it did not (the statement failed: nothing kept).

    No BEGIN and no COMMIT round trip, and no client round trip while locks are held. A connection
    lost during the statement leaves its outcome unknown, but the command is keyed: run again, it
    finds the key and replays the first answer (whose events the sweeper publishes) or posts once.
    """
    if actor is None or actor.session_id is None or registered.authority not in (Authority.CALLER, Authority.ADMIN):
        return None
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        return None  # inside a transaction of the caller's (as Fluorine's rehearsal runs): no statement commits alone
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
            return replayed(idempotency.stored_answer(uow, idem, name), uow.subject)
        except AppError as refusal:
            if refusal.status >= 500:
                raise
            uow.records = []
            stored = None if uow.key_claimed else idempotency.claim(uow, idem, name)
            if stored is not None:
                return replayed(stored, uow.subject)
            refused = refusal
            idempotency.remember_refusal(uow, idem, refusal)
        else:
            version = write_version_of(uow)
            if not uow.key_answered:  # a lean function keeps its result and versions with the key itself
                idempotency.remember(uow, idem, result, version)
    if refused is not None:
        raise refused
    return Outcome(result, uow.records, version)
