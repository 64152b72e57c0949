"""The first admin of a deployed stage: ``python -m oxygen.bootstrap``."""

from __future__ import annotations

import pytest

from oxygen.bootstrap import main
from shared.auth.tokens import verify_access_token
from tests.integration.oxygen_support import login
from tests.support.events import response_json
from tests.support.streams import StreamDriver

ADMIN_PASSWORD = "bootstrap admin password"


def test_bootstrap_creates_an_admin_who_can_log_in_and_is_idempotent(
    stack: StreamDriver, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given no admin yet and the password in the environment
    monkeypatch.setenv("ADMIN_PASSWORD", ADMIN_PASSWORD)
    # When the bootstrap runs (twice)
    assert main(["--handle", "first_admin"]) == 0
    assert main(["--handle", "first_admin"]) == 0
    # Then the admin logs in with a token carrying the admin role, and the password was never printed
    response = login("first_admin", ADMIN_PASSWORD)
    assert response["statusCode"] == 200
    assert verify_access_token(response_json(response)["access_token"]).roles == ["admin"]
    assert ADMIN_PASSWORD not in capsys.readouterr().out


def test_bootstrap_prompts_when_no_password_is_set_and_refuses_a_short_one(
    stack: StreamDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
    assert main(["--handle", "prompted_admin"], prompt=lambda _: "short") == 2
    assert main(["--handle", "Bad Handle"], prompt=lambda _: ADMIN_PASSWORD) == 2
    assert main(["--handle", "prompted_admin"], prompt=lambda _: ADMIN_PASSWORD) == 0
    assert login("prompted_admin", ADMIN_PASSWORD)["statusCode"] == 200
