"""Capture what the structured logger writes, through its own JSON formatter."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from shared.observability import logger


@contextmanager
def captured_logs(level: int | None = None) -> Iterator[io.StringIO]:
    """Every line the Powertools logger writes while inside (at ``level``, if given)."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    previous = logger.log_level
    if level is not None:
        logger.setLevel(level)
    try:
        yield buffer
    finally:
        logger.setLevel(previous)
        logger.removeHandler(handler)
