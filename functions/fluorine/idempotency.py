"""Idempotency keys, claimed and answered inside the command's own transaction.

The claim is an insert on (caller, key): a concurrent duplicate waits on the row lock until the
first commits, then finds the stored answer. A key is kept with its first answer, so a retry
returns it (same body, same write version) and writes nothing. A business refusal is a first
answer too (the contract: a repeat returns the first response), kept under ``REFUSAL``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from fluorine.uow import UnitOfWork
from shared import write_versions
from shared.contracts.changes import AggregateVersion, Idempotency
from shared.errors import ERRORS_BY_CODE, AppError, Conflict

RETENTION_HOURS = 48  # the contract promises at least 24 h
REFUSAL = "__refusal__"  # a stored answer that is a refusal: {REFUSAL: {code, detail, errors}}


@dataclass(frozen=True)
class StoredAnswer:
    result: dict[str, Any]
    write_version: str | None
    versions: list[AggregateVersion] | None = None  # kept by a lean function: the token is signed from them

    def token(self, subject: UUID | None) -> str | None:
        """The first answer's write version: kept as it was, or signed again from the kept versions
        (the same versions and subject give the same token)."""
        if self.write_version is not None or not self.versions or subject is None:
            return self.write_version
        return write_versions.issue(self.versions, subject)


def claim(uow: UnitOfWork, idem: Idempotency, command: str) -> StoredAnswer | None:
    """Claim the key for this command; the stored answer if it was already used for the same request."""
    inserted = uow.execute(
        "INSERT INTO idempotency_keys (caller_id, key, fingerprint, command) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (caller_id, key) DO NOTHING RETURNING 1",
        (idem.caller_id, idem.key, idem.fingerprint, command),
    ).fetchone()
    if inserted:
        return None
    return stored_answer(uow, idem, command)


class KeyAlreadyUsed(Exception):
    """Raised by a handler that claims its own key (``claims_key``) when the key was already used."""


def stored_answer(uow: UnitOfWork, idem: Idempotency, command: str) -> StoredAnswer:
    """The answer kept with an already claimed key; 409 if it was claimed for another request."""
    row = uow.execute(
        "SELECT fingerprint, command, result, write_version, versions FROM idempotency_keys"
        " WHERE caller_id = %s AND key = %s",
        (idem.caller_id, idem.key),
    ).fetchone()
    assert row is not None
    if row[0] != idem.fingerprint or row[1] != command or row[2] is None:
        raise Conflict("This Idempotency-Key was already used with a different request.")
    versions = [AggregateVersion(aggregate=a, version=v) for a, v in row[4]] if row[4] is not None else None
    return StoredAnswer(result=row[2], write_version=row[3], versions=versions)


def remember(uow: UnitOfWork, idem: Idempotency, result: dict[str, Any], write_version: str | None) -> None:
    uow.execute(
        "UPDATE idempotency_keys SET result = %s, write_version = %s WHERE caller_id = %s AND key = %s",
        (Jsonb(result), write_version, idem.caller_id, idem.key),
    )


def remember_refusal(uow: UnitOfWork, idem: Idempotency, refusal: AppError) -> None:
    stored = {REFUSAL: {"code": refusal.code, "detail": refusal.detail, "errors": refusal.errors}}
    remember(uow, idem, stored, None)


def replayed_refusal(answer: StoredAnswer) -> AppError | None:
    """The first answer's refusal, to raise again; None if the first answer was a result."""
    refusal = answer.result.get(REFUSAL) if set(answer.result) == {REFUSAL} else None
    if refusal is None:
        return None
    error_type = ERRORS_BY_CODE.get(refusal["code"], Conflict)
    return error_type(refusal["detail"], errors=refusal.get("errors"))


def expire(uow: UnitOfWork) -> int:
    cursor = uow.execute(
        "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => %s)", (RETENTION_HOURS,)
    )
    return cursor.rowcount
