"""No password, password hash or token ever appears in a log line during Oxygen's flows."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from shared.settings import reset_settings
from tests.integration.oxygen_support import PASSWORD, authorize, caller_of, login, oxygen, register
from tests.support.events import response_json
from tests.support.logs import captured_logs
from tests.support.streams import StreamDriver

NEW_PASSWORD = "another long passphrase"


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """Everything the Powertools logger writes, at DEBUG, through its own JSON formatter."""
    with captured_logs(logging.DEBUG) as buffer:
        yield buffer


def test_no_secret_reaches_any_log_line_across_the_oxygen_flows(
    stack: StreamDriver,
    log_output: io.StringIO,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    postgres: str,
) -> None:
    # Given every Oxygen flow run once, including the failures that log
    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr("oxygen.logic.await_read_side", lambda version: stack.drain())
    monkeypatch.setattr("oxygen.sessions.await_read_side", lambda version, what: stack.drain())
    entity = register(stack, email="logs@mail.example")
    login(entity.handle, "a wrong password")
    first = response_json(login(entity.handle))
    second = response_json(oxygen("POST", "/v1/auth/refresh", body={"refresh_token": first["refresh_token"]}))
    monkeypatch.setenv("REFRESH_GRACE_SECONDS", "0")  # no grace: the next use is reuse
    reset_settings()
    oxygen("POST", "/v1/auth/refresh", body={"refresh_token": first["refresh_token"]})  # reuse
    with pytest.raises(Exception, match="Unauthorized"):
        authorize(second["access_token"])
    oxygen(
        "PATCH",
        "/v1/entities/me",
        caller=caller_of(entity),
        body={"password": NEW_PASSWORD, "current_password": PASSWORD},
    )
    third = response_json(login(entity.handle, NEW_PASSWORD))
    oxygen("POST", "/v1/auth/logout", caller=caller_of(entity), body={"refresh_token": third["refresh_token"]})
    oxygen("DELETE", "/v1/entities/me", caller=caller_of(entity))
    import psycopg

    with psycopg.connect(postgres) as conn:
        row = conn.execute("SELECT password_hash FROM entities WHERE id = %s", (entity.id,)).fetchone()
    assert row is not None
    # When every captured log output is gathered
    captured = capsys.readouterr()
    text = "\n".join([log_output.getvalue(), captured.out, captured.err, caplog.text])
    # Then the flows did log (this test would be empty otherwise) but no secret is in it
    assert "login refused" in log_output.getvalue()
    assert "spent refresh token presented" in log_output.getvalue()
    secrets = [PASSWORD, NEW_PASSWORD, "a wrong password", row[0], "$argon2id"]
    secrets += [pair[k] for pair in (first, second, third) for k in ("access_token", "refresh_token")]
    leaked = [text[max(0, text.index(s) - 200) : text.index(s)] for s in secrets if s in text]
    assert leaked == [], "secrets logged after these lines"
