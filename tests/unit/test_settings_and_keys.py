"""Settings come from the environment; a key from a file or the environment is refused outside local."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared.auth.keys import KeyConfigurationError, jwks, reset_keys, signing_key, trusted_keys
from shared.settings import get_settings, reset_settings


@pytest.fixture
def fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    reset_settings()
    reset_keys()
    yield monkeypatch
    monkeypatch.undo()
    reset_settings()
    reset_keys()


def test_settings_read_the_environment(fresh_settings: pytest.MonkeyPatch) -> None:
    fresh_settings.setenv("READ_CACHE_TABLE", "elements-dev-ReadCache")
    fresh_settings.setenv("MIN_VERSION_WAIT_SECONDS", "1.5")
    settings = get_settings()
    assert settings.read_cache_table == "elements-dev-ReadCache"
    assert settings.min_version_wait_seconds == 1.5


def test_a_deployed_stage_refuses_a_key_file(fresh_settings: pytest.MonkeyPatch) -> None:
    fresh_settings.setenv("STAGE", "prod")
    with pytest.raises(KeyConfigurationError):
        signing_key()


def test_a_deployed_stage_without_keys_fails_loudly(fresh_settings: pytest.MonkeyPatch) -> None:
    fresh_settings.setenv("STAGE", "dev")
    fresh_settings.delenv("SIGNING_KEY_FILE")
    with pytest.raises(KeyConfigurationError):
        trusted_keys()


def test_the_jwks_publishes_the_signing_key_with_kid_alg_and_use(fresh_settings: pytest.MonkeyPatch) -> None:
    (key,) = jwks()["keys"]
    assert key["kid"] == signing_key().public.kid
    assert (key["kty"], key["alg"], key["use"], key["crv"]) == ("EC", "ES256", "sig", "P-256")
    assert "d" not in key


def test_a_rotated_local_key_file_is_used_from_the_next_token_on(
    fresh_settings: pytest.MonkeyPatch, tmp_path: pytest.TempPathFactory
) -> None:
    from pathlib import Path

    from shared.auth import keys

    # Given a signing key in use, and a new key file put in its place
    first = signing_key().public.kid
    rotated = Path(str(tmp_path)) / "rotated.pem"
    rotated.write_bytes(keys.generate_signing_key_pem())
    fresh_settings.setenv("SIGNING_KEY_FILE", str(rotated))
    reset_settings()
    # When a token is signed, Then it uses the new key (a local file is read on every use)
    assert signing_key().public.kid != first


def test_deployed_keys_are_read_through_powertools_cache_of_five_minutes(fresh_settings: pytest.MonkeyPatch) -> None:
    from aws_lambda_powertools.utilities import parameters

    from shared.auth import keys

    # Given a deployed stage whose signing key is an SSM parameter
    pem = keys.generate_signing_key_pem().decode()
    asked: list[tuple[str, dict[str, object]]] = []

    def get_parameter(name: str, **options: object) -> str:
        asked.append((name, options))
        return pem

    fresh_settings.setattr(parameters, "get_parameter", get_parameter)
    fresh_settings.setenv("STAGE", "dev")
    fresh_settings.setenv("AWS_REGION", "eu-central-1")
    fresh_settings.delenv("SIGNING_KEY_FILE")
    fresh_settings.setenv("SIGNING_KEY_PARAMETER", "/elements/dev/signing-key")
    reset_settings()
    # When the key is used twice
    first, second = signing_key(), signing_key()
    # Then it comes from Powertools with a five-minute max_age (Powertools' cache decides when a
    # rotation is read), decrypted, and is parsed once
    assert asked[0] == ("/elements/dev/signing-key", {"decrypt": True, "max_age": 300})
    assert first is second
