"""Typed element-to-element calls: one client, two transports.

In AWS a call is a synchronous Lambda ``Invoke`` of the target function (``FLUORINE_FUNCTION``);
locally the local stack's runtime (or a test's stand-in) invokes the function of that name
in-process. Either way the request and the answer cross as JSON, so the contract is exercised the
same way.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from functools import lru_cache
from typing import Any, Generic, TypeVar
from uuid import UUID

from pydantic import BaseModel, Field

from shared import snapstart
from shared.errors import ERRORS_BY_CODE, AppError, InternalError
from shared.observability import correlation_id, logger
from shared.settings import get_settings

ResultT = TypeVar("ResultT", bound=BaseModel)


class Actor(BaseModel):
    """Whom a command acts for: an entity in one login session, as its access token names them.

    The element passes on what the authorizer established; Fluorine checks it on PostgreSQL's
    truth (the entity active, the session live, the platform role held) in the command's own
    transaction, so no read cache, however stale or wrong, can let a write through.
    """

    entity_id: UUID
    session_id: UUID | None = None


class CallContext(BaseModel):
    request_id: str | None = None
    actor: Actor | None = None


class InternalRequest(BaseModel):
    """What crosses to the target: one typed command, by its ``command`` discriminator."""

    command: dict[str, Any]
    context: CallContext = Field(default_factory=CallContext)


class InternalFailure(BaseModel):
    code: str
    detail: str
    errors: list[dict[str, Any]] | None = None
    headers: dict[str, str] | None = None  # e.g. Retry-After


class InternalResponse(BaseModel, Generic[ResultT]):
    ok: bool
    result: ResultT | None = None
    write_version: str | None = None
    error: InternalFailure | None = None


class CallResult(BaseModel, Generic[ResultT]):
    result: ResultT
    write_version: str | None


# Locally (the local stack, tests, benchmarks): how a function is invoked in this process, by name.
LocalInvoke = Callable[[str, dict[str, Any]], dict[str, Any]]
_LOCAL: dict[str, LocalInvoke] = {}


def use_local_transport(invoke: LocalInvoke) -> None:
    """Serve ``INTERNAL_TRANSPORT=local`` calls with ``invoke(function name, event)`` (the local
    stack's runtime, or a test's): the shared layer knows no element's module."""
    _LOCAL["invoke"] = invoke


@lru_cache(maxsize=1)
def _lambda_client() -> Any:
    from shared.aws import make_client

    return make_client("lambda", region_name=get_settings().region)


_primed_answers: list[type[BaseModel]] = []  # pydantic keeps parametrized models only while referenced


def prime_invoke(*result_types: type[BaseModel]) -> None:
    """For a prime: the typed answers of ``result_types`` (pydantic builds a parametrized generic
    model on its first use, ~10 ms each), the Lambda client and ``Invoke``'s model (deployed transport)."""
    for result_type in result_types:
        _primed_answers.extend((InternalResponse[result_type], CallResult[result_type]))  # type: ignore[valid-type]
    if get_settings().internal_transport == "lambda":
        snapstart.exercise(_lambda_client(), {"Invoke": {"FunctionName": "prime", "Payload": b"{}"}})


@snapstart.after_restore
def _drop_connections() -> None:
    if _lambda_client.cache_info().currsize:
        _lambda_client()._endpoint.http_session.close()


def _send(target: str, payload: str) -> dict[str, Any]:
    settings = get_settings()
    function = getattr(settings, f"{target}_function")
    if settings.internal_transport == "local":
        if "invoke" not in _LOCAL:
            raise RuntimeError("INTERNAL_TRANSPORT=local, but nothing serves local calls (use_local_transport)")
        return _LOCAL["invoke"](function, json.loads(payload))
    answer = _lambda_client().invoke(FunctionName=function, InvocationType="RequestResponse", Payload=payload)
    body = json.loads(answer["Payload"].read())
    if answer.get("FunctionError"):
        logger.error("internal call failed", extra={"target": target, "error_type": body.get("errorType")})
        raise InternalError()
    return body  # type: ignore[no-any-return]


def current_context() -> CallContext:
    """The context of an internal call made outside a request's: its correlation id still travels."""
    return CallContext(request_id=correlation_id())


def call(
    target: str, command: BaseModel, result_type: type[ResultT], context: CallContext | None = None
) -> CallResult[ResultT]:
    """Send ``command`` to ``target``; its typed result, or the target's ``AppError`` raised here."""
    request = InternalRequest(
        command=command.model_dump(mode="json"), context=context or CallContext(request_id=correlation_id())
    )
    answer = InternalResponse[result_type].model_validate(_send(target, request.model_dump_json()))  # type: ignore[valid-type]
    if not answer.ok or answer.result is None:
        failure = answer.error or InternalFailure(code="internal_error", detail="no result")
        raise ERRORS_BY_CODE.get(failure.code, InternalError)(
            failure.detail, errors=failure.errors, headers=failure.headers
        )
    return CallResult[result_type](result=answer.result, write_version=answer.write_version)  # type: ignore[valid-type]


def cast(target: str, command: BaseModel, context: CallContext | None = None) -> None:
    """Send ``command`` to ``target`` without waiting for its answer: Lambda's asynchronous invoke
    (retried by Lambda), locally a thread. For work the caller must not wait for and whose failure
    it could only log."""
    request = InternalRequest(
        command=command.model_dump(mode="json"), context=context or CallContext(request_id=correlation_id())
    )
    settings = get_settings()
    function = getattr(settings, f"{target}_function")
    if settings.internal_transport == "local":
        invoke = _LOCAL.get("invoke")
        if invoke is None:
            raise RuntimeError("INTERNAL_TRANSPORT=local, but nothing serves local calls (use_local_transport)")
        event = request.model_dump(mode="json")
        threading.Thread(target=_answer_ignored, args=(invoke, function, event), daemon=True).start()
        return
    _lambda_client().invoke(FunctionName=function, InvocationType="Event", Payload=request.model_dump_json())


def _answer_ignored(invoke: LocalInvoke, function: str, event: dict[str, Any]) -> None:
    try:
        invoke(function, event)
    except Exception:  # as with Lambda's asynchronous invoke, the caller is long gone: log it
        logger.exception("asynchronous internal call failed", extra={"function": function})


def failure_response(error: AppError) -> dict[str, Any]:
    """How a target answers a refused command (the caller re-raises it as the same error class)."""
    return InternalResponse[BaseModel](
        ok=False,
        error=InternalFailure(code=error.code, detail=error.detail, errors=error.errors, headers=error.headers or None),
    ).model_dump(mode="json", exclude_none=True)
