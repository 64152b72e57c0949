"""Thin write routes: a route declares its success status, its answer model and its Idempotency-Key,
and its body is the use case call.

    writes = Writes(app)

    @writes.post("/v1/transfers", 201, TransferOut, idempotency="required")
    def transfer(body: TransferBody, call: Call) -> CallResult[TransferState]:
        return logic.transfer(body, call)

``Call`` carries who calls (refused with 401 before the route runs when a signed-in caller is needed),
the internal-call context (request id, actor) and the request's idempotency. The use case's
``CallResult`` becomes the answer: ``answer.of(result)`` (or the result itself), the status and
``X-Write-Version``. The route's OpenAPI document follows from the same declaration: the success
status and model, and the ``Idempotency-Key`` header (required, or optional, with its bounds).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Annotated, Any, Literal, get_type_hints
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header
from pydantic import BaseModel

from shared.context import IDEMPOTENCY_KEY_PATTERN, Caller, caller_of, fingerprint, idempotency_key_of
from shared.contracts.changes import Idempotency
from shared.errors import NotFound, Unauthorized
from shared.http import context_of, written
from shared.internal import CallContext, CallResult
from shared.observability import logger

Idempotent = Literal["required", "optional"] | None
KEY_DESCRIPTION = "1..128 printable ASCII. A repeat with the same body replays the first answer (another body is 409)."
SUCCESS = {200: "OK", 201: "Created", 202: "Accepted", 204: "No content"}


@dataclass(frozen=True)
class Call:
    """What a write route hands its use case: the caller, the internal-call context, the idempotency."""

    caller: Caller | None
    context: CallContext
    idempotency: Idempotency | None = None

    @property
    def entity_id(self) -> UUID:
        """The caller's entity id (a route that needs a caller was refused before it ran without one)."""
        if self.caller is None:
            raise Unauthorized("A valid bearer token is required.")
        return self.caller.entity_id


def uuid_or_404(raw: str, what: str) -> UUID:
    """A path id; anything that is not a UUID names nothing: 404, not 400."""
    try:
        return UUID(raw)
    except ValueError:
        raise NotFound(f"The {what} does not exist.") from None


def _answer_of(answer: type[Any] | None, result: Any) -> BaseModel | None:
    """The answer model built from the use case's result with its ``of``, or validated from it."""
    if answer is None:
        return None
    build = getattr(answer, "of", None)
    return build(result) if build is not None else answer.model_validate(result)  # type: ignore[no-any-return]


def _signature(fn: Callable[..., Any], answer: type[Any] | None, idempotency: Idempotent) -> inspect.Signature:
    """The route's signature as Powertools reads it: ``call`` left out, the Idempotency-Key declared,
    annotations resolved in the route's own module (Powertools would resolve them in this one)."""
    hints = get_type_hints(fn, include_extras=True)
    parameters = [
        p.replace(annotation=hints.get(name, p.annotation))
        for name, p in inspect.signature(fn).parameters.items()
        if name != "call"
    ]
    if idempotency is not None:
        header = Header(
            alias="Idempotency-Key",
            description=KEY_DESCRIPTION,
            min_length=1,
            max_length=128,
            pattern=IDEMPOTENCY_KEY_PATTERN.pattern,
        )
        required = idempotency == "required"
        parameters.append(
            inspect.Parameter(
                "idempotency_key",
                inspect.Parameter.KEYWORD_ONLY,
                annotation=Annotated[str, header],  # optional or not, a header is a string (never null)
                default=inspect.Parameter.empty if required else None,
            )
        )
    returns = Response[answer] if answer else Response[None]  # type: ignore[valid-type]
    return inspect.Signature(parameters, return_annotation=returns)


class Writes:
    """Write routes of one resolver or router (see the module's docstring)."""

    def __init__(self, router: Any) -> None:
        self.router = router

    def _route(
        self,
        method: str,
        path: str,
        status: int,
        answer: type[Any] | None,
        *,
        idempotency: Idempotent = None,
        public: bool = False,
        **options: Any,
    ) -> Callable[[Callable[..., CallResult[Any]]], Callable[..., Response[Any]]]:
        success: dict[str, Any] = {"description": SUCCESS[status]}
        if answer is not None:
            success["content"] = {"application/json": {"model": answer}}

        def register(fn: Callable[..., CallResult[Any]]) -> Callable[..., Response[Any]]:
            @wraps(fn)
            def route(**arguments: Any) -> Response[Any]:
                arguments.pop("idempotency_key", None)  # read below, case-insensitively and validated
                done = fn(**arguments, call=self._call(idempotency, public))
                if not done.write_version:
                    logger.warning("a write answered no write version", extra={"path": path})
                return written(status, _answer_of(answer, done.result), done.write_version)

            route.__signature__ = _signature(fn, answer, idempotency)  # type: ignore[attr-defined]
            decorator = getattr(self.router, method)(path, responses={status: success}, **options)
            return decorator(route)  # type: ignore[no-any-return]

        return register

    def _call(self, idempotency: Idempotent, public: bool) -> Call:
        event: dict[str, Any] = self.router.current_event.raw_event
        caller = caller_of(event)
        if caller is None and not public:
            raise Unauthorized("A valid bearer token is required.")
        key = idempotency_key_of(event, required=idempotency == "required") if idempotency else None
        idem = None
        if key is not None and caller is not None:
            idem = Idempotency(caller_id=str(caller.entity_id), key=key, fingerprint=fingerprint(event))
        return Call(caller=caller, context=context_of(event), idempotency=idem)

    def post(self, path: str, status: int, answer: type[Any] | None = None, **kwargs: Any) -> Any:
        return self._route("post", path, status, answer, **kwargs)

    def put(self, path: str, status: int, answer: type[Any] | None = None, **kwargs: Any) -> Any:
        return self._route("put", path, status, answer, **kwargs)

    def patch(self, path: str, status: int, answer: type[Any] | None = None, **kwargs: Any) -> Any:
        return self._route("patch", path, status, answer, **kwargs)

    def delete(self, path: str, status: int, answer: type[Any] | None = None, **kwargs: Any) -> Any:
        return self._route("delete", path, status, answer, **kwargs)


__all__ = ["Call", "Writes", "uuid_or_404"]
