"""Logger and metrics, built once per container and shared by every module.

No X-Ray SDK: Lambda's active tracing records every invocation without it, and no code opens a
subsegment. (Powertools' Tracer needs the ``aws-lambda-powertools[tracer]`` extra in the layer.)

Log lines are JSON and carry the Lambda context, the correlation (request) id and the caller's
entity id; anything that looks like a secret is redacted by key before it is written.

Metrics are CloudWatch embedded metric format lines (Powertools), printed to the function's log:
no API call, CloudWatch extracts them. Every metric has the dimension ``element`` (which function
emitted it) and at most one more, from small fixed sets (an error code, an event type, an asset
code): never an entity id. Names and dimensions: docs/operations.md.
"""

from __future__ import annotations

import logging
import os
from contextvars import ContextVar
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "elements")
SECRET_KEYS = frozenset(
    {
        "password",
        "current_password",
        "password_hash",
        "refresh_token",
        "access_token",
        "token",
        "authorization",
        "authorizationtoken",
        "private_key",
        "signing_key",
        "secret",
        "cookie",
    }
)
REDACTED = "***"


def redact(value: Any) -> Any:
    """A copy of ``value`` with every secret-looking key's value replaced."""
    if isinstance(value, dict):
        return {k: REDACTED if str(k).lower() in SECRET_KEYS else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


class _RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, dict):
            record.msg = redact(record.msg)
        for key in [k for k in record.__dict__ if k.lower() in SECRET_KEYS]:
            setattr(record, key, REDACTED)
        return True


logger = Logger(service=SERVICE, level=os.environ.get("LOG_LEVEL", "INFO"))
logger.addFilter(_RedactingFilter())


NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Elements")
_element: ContextVar[str] = ContextVar("element", default=SERVICE)
_correlation: ContextVar[str | None] = ContextVar("correlation_id", default=None)
_warm: set[str] = set()  # the elements of this process that have been invoked once


def element_of(context: Any) -> str:
    """The element a function belongs to, for the ``element`` dimension: the function's service name
    deployed (``POWERTOOLS_SERVICE_NAME``), its logical id locally, where functions share a process
    (``OxygenFunction`` → ``oxygen``, ``RheniumTriggerFunction`` → ``rhenium-trigger``)."""
    if os.environ.get("POWERTOOLS_SERVICE_NAME"):
        return os.environ["POWERTOOLS_SERVICE_NAME"]
    name = str(getattr(context, "function_name", "") or SERVICE).removesuffix("Function")
    return "".join(f"-{c.lower()}" if c.isupper() else c for c in name).lstrip("-") or SERVICE


def invocation(context: Any, correlation_id: str | None = None) -> None:
    """Start an invocation's logging and metrics: the Lambda context on every log line (function,
    request id, cold start), the correlation id, and the element its metrics are counted under."""
    logger.clear_state()
    if context is not None and hasattr(context, "aws_request_id"):
        from aws_lambda_powertools.logging.lambda_context import build_lambda_context_model

        logger.append_keys(**build_lambda_context_model(context).__dict__)
    element = element_of(context)
    _element.set(element)
    logger.append_keys(cold_start=element not in _warm)
    _warm.add(element)
    logger.set_correlation_id(correlation_id)
    _correlation.set(correlation_id)


def correlation_id() -> str | None:
    """The correlation id of this thread's invocation (the local stack runs several at once in one
    process, where the logger's keys are shared; deployed they are the same)."""
    return _correlation.get()


def follow(correlation: str | None) -> None:
    """Work on behalf of the request ``correlation`` names (a change record of it): log lines and
    the internal calls made from here carry its id."""
    logger.set_correlation_id(correlation)
    _correlation.set(correlation)


def count(name: str, value: float = 1, unit: MetricUnit = MetricUnit.Count, **dimension: str) -> None:
    """One metric value (``dimension``: at most one more, besides ``element``), printed at once."""
    observe(name, [value], unit, **dimension)


def observe(name: str, values: list[float], unit: MetricUnit, **dimension: str) -> None:
    """Several values of one metric in one embedded-format line (e.g. a batch's lags; Powertools
    starts a new line past EMF's 100 values)."""
    if not values or is_metrics_disabled():
        return
    try:
        batch = EphemeralMetrics(namespace=NAMESPACE)
        for key, label in {"element": _element.get(), **dimension}.items():
            batch.add_dimension(key, label)
        for value in values:
            batch.add_metric(name=name, unit=unit, value=value)
        batch.flush_metrics()
    except Exception:  # a metric must never fail what it measures
        logger.warning("metric not emitted", extra={"metric": name}, exc_info=True)
