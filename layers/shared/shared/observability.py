"""Logger and metrics, built once per container and shared by every module.

No X-Ray SDK: Lambda's active tracing records every invocation without it, and no code opens a
subsegment. (Powertools' Tracer needs the ``aws-lambda-powertools[tracer]`` extra in the layer.)

Log lines are JSON and carry the correlation (request) id and the caller's entity id; anything
that looks like a secret is redacted by key before it is written.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics

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


metrics = Metrics(service=SERVICE, namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Elements"))
