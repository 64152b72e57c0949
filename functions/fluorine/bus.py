"""The command bus: finds the handler of a typed command and runs it in one transaction.

Serialization failures and deadlocks are retried here, inside Fluorine, so they never reach a
client; business refusals are ``AppError``s and roll the whole transaction back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg
from psycopg import errors as pg_errors
from pydantic import BaseModel, ValidationError

from fluorine.db import connection
from fluorine.uow import UnitOfWork
from shared.contracts.changes import ChangeRecord
from shared.errors import InvalidRequest, field_errors

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
    registered = HANDLERS.get(str(raw.get("command")))
    if registered is None:
        raise InvalidRequest(f"unknown command {raw.get('command')!r}")
    try:
        return registered, registered.model.model_validate(raw)
    except ValidationError as exc:
        raise InvalidRequest("The command is not valid.", errors=field_errors(exc.errors())) from exc


def execute(raw: dict[str, Any], conn: psycopg.Connection | None = None) -> tuple[BaseModel, list[ChangeRecord]]:
    """Run one command to commit; its result and the events it committed."""
    registered, command = parse(raw)
    conn = conn or connection()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            with UnitOfWork(conn) as uow:
                result = registered.handle(command, uow)
            return result, uow.records
        except RETRYABLE:
            if attempt == MAX_ATTEMPTS:
                raise
            time.sleep(min(0.2, 0.005 * 2**attempt))
    raise AssertionError("unreachable")
