"""Structured logs never carry secrets."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest

from shared.observability import REDACTED, logger, redact
from tests.support.logs import captured_logs


def test_redact_replaces_secret_values_at_any_depth() -> None:
    value = {"handle": "ada", "password": "hunter2hunter2", "nested": [{"refresh_token": "r"}], "Authorization": "x"}
    assert redact(value) == {
        "handle": "ada",
        "password": REDACTED,
        "nested": [{"refresh_token": REDACTED}],
        "Authorization": REDACTED,
    }


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """What the structured logger writes, through its own JSON formatter."""
    with captured_logs() as buffer:
        yield buffer


def test_log_lines_redact_secret_extras_and_messages(log_lines: io.StringIO) -> None:
    logger.warning({"event": "login", "password": "hunter2hunter2"})
    logger.warning("token issued", extra={"access_token": "eyJhbGciOi", "handle": "ada"})
    lines = [json.loads(line) for line in log_lines.getvalue().splitlines() if line.strip()]
    assert len(lines) == 2
    text = json.dumps(lines)
    assert "hunter2hunter2" not in text
    assert "eyJhbGciOi" not in text
    assert any(line.get("handle") == "ada" for line in lines)
