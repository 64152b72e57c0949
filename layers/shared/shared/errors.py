"""One error hierarchy for every element, and its mapping to RFC 9457 problem details.

Use cases raise these; only the HTTP edge (``shared.http``) and the internal-call edge
(``shared.internal``) turn them into wire formats.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://errors.elements.dev/"


class AppError(Exception):
    """Base of every error a client may see; subclasses carry the contract's code and status."""

    code: ClassVar[str] = "internal_error"
    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors
        self.headers = headers or {}


class InvalidRequest(AppError):
    code, status, title = "invalid_request", 400, "Invalid request"


class Unauthorized(AppError):
    code, status, title = "unauthorized", 401, "Unauthorized"


class Forbidden(AppError):
    code, status, title = "forbidden", 403, "Forbidden"


class EndpointNotFound(AppError):
    code, status, title = "endpoint_not_found", 404, "Endpoint not found"


class NotFound(AppError):
    code, status, title = "not_found", 404, "Not found"


class Conflict(AppError):
    code, status, title = "conflict", 409, "Conflict"


class PayloadTooLarge(AppError):
    code, status, title = "payload_too_large", 413, "Payload too large"


class OperationFailed(AppError):
    code, status, title = "operation_failed", 422, "Operation failed"


class RateLimited(AppError):
    code, status, title = "rate_limited", 429, "Too many requests"

    def __init__(
        self,
        detail: str | None = None,
        *,
        retry_after: int | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        given = retry_after if retry_after is not None else int((headers or {}).get("Retry-After", "1"))
        self.retry_after = max(1, given)
        super().__init__(detail, errors=errors, headers={**(headers or {}), "Retry-After": str(self.retry_after)})


class NotReady(AppError):
    """An expected answer under load or lag (the client retries after ``Retry-After``), not an incident."""

    code, status, title = "not_ready", 503, "Read side not ready"


class InternalError(AppError):
    code, status, title = "internal_error", 500, "Internal error"


ERRORS_BY_CODE: dict[str, type[AppError]] = {
    cls.code: cls
    for cls in (
        InvalidRequest,
        Unauthorized,
        Forbidden,
        EndpointNotFound,
        NotFound,
        Conflict,
        PayloadTooLarge,
        OperationFailed,
        RateLimited,
        NotReady,
        InternalError,
    )
}


def problem(error: AppError, request_id: str) -> dict[str, Any]:
    """The problem+json body of ``error``; an internal error never says more than its request id."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + error.code,
        "title": error.title,
        "status": error.status,
        "detail": error.detail if error.status != 500 else "An unexpected error occurred.",
        "code": error.code,
        "request_id": request_id,
    }
    if error.errors:
        body["errors"] = error.errors
    return body


def field_errors(pydantic_errors: Sequence[Any]) -> list[dict[str, Any]]:
    """pydantic's error list, reduced to the contract's ``{loc, msg, type}`` (no echo of the input)."""
    return [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
        for e in pydantic_errors
    ]


def being_restored(error: Exception) -> NotReady | None:
    """A DynamoDB table missing (botocore's ``ResourceNotFoundException``, recognised without
    importing botocore): a store being restored, so ``not_ready`` for the client to retry; else None."""
    response = getattr(error, "response", None)
    if not isinstance(response, dict) or response.get("Error", {}).get("Code") != "ResourceNotFoundException":
        return None
    from shared.observability import logger

    logger.error("a DynamoDB table is missing", extra={"error": str(error)})
    return NotReady("The read side is being restored; retry shortly.", headers={"Retry-After": "5"})
