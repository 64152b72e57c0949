"""How Fluorine connects once deployed: credentials from Secrets Manager, TLS verified against the proxy's CA."""

from __future__ import annotations

import json
from collections.abc import Iterator

import psycopg
import pytest
from cryptography import x509

from fluorine import db
from shared.settings import reset_settings

SECRET = {"username": "elements", "password": "s3cret", "host": "cluster.invalid", "port": 5432}
PROXY = "elements-prod.proxy-abc.eu-central-1.rds.amazonaws.com"


@pytest.fixture
def deployed_stage(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bool]]:
    """A deployed Fluorine's settings, Secrets Manager answering SECRET; each read's force_fetch."""
    reads: list[bool] = []

    def get_secret(name: str, max_age: int = 0, force_fetch: bool = False) -> str:
        reads.append(force_fetch)
        return json.dumps(SECRET)

    from aws_lambda_powertools.utilities import parameters

    monkeypatch.setattr(parameters, "get_secret", get_secret)
    monkeypatch.setenv("STAGE", "prod")
    monkeypatch.setenv("DATABASE_SECRET_ARN", "arn:aws:secretsmanager:eu-central-1:123456789012:secret:db")
    monkeypatch.setenv("DATABASE_HOST", PROXY)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    reset_settings()
    yield reads
    monkeypatch.undo()
    reset_settings()


def test_a_deployed_fluorine_verifies_the_proxys_certificate_and_name(deployed_stage: list[bool]) -> None:
    # Given a deployed stage's settings
    # When Fluorine builds its connection string
    info = psycopg.conninfo.conninfo_to_dict(db._conninfo())
    # Then it connects to the proxy's name, and only if the proxy proves that name with a certificate
    # from Amazon's roots (sslmode=require would accept any certificate: a man in the middle too)
    assert (info["host"], info["user"], info["sslmode"]) == (PROXY, "elements", "verify-full")
    roots = x509.load_pem_x509_certificates(db.TRUSTED_ROOTS.read_bytes())
    assert info["sslrootcert"] == str(db.TRUSTED_ROOTS)
    assert "CN=Amazon Root CA 1,O=Amazon,C=US" in {c.subject.rfc4514_string() for c in roots}


class FakeConnection:
    closed = broken = False

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def logins(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """psycopg.connect refusing the first login (a rotated password) and accepting the next; each password."""
    passwords: list[str] = []

    def connect(conninfo: str, **kwargs: object) -> FakeConnection:
        passwords.append(psycopg.conninfo.conninfo_to_dict(conninfo)["password"])
        if len(passwords) == 1:
            raise psycopg.OperationalError('password authentication failed for user "elements"')
        return FakeConnection()

    monkeypatch.setattr(db.psycopg, "connect", connect)
    db._local.conn = None
    yield passwords
    db._local.conn = None


def test_a_login_refused_after_a_rotation_is_retried_once_with_the_secret_read_afresh(
    deployed_stage: list[bool], logins: list[str]
) -> None:
    # Given Secrets Manager holding the rotated password, and a first login that the proxy refuses
    # (this container's cached secret still had the old one)
    # When Fluorine opens its connection
    conn = db.connection()
    # Then it read the secret again, bypassing its cache, and logged in with it
    assert isinstance(conn, FakeConnection)
    assert deployed_stage == [False, True]
    assert logins == ["s3cret", "s3cret"]


def test_without_a_secret_a_refused_login_is_not_retried(logins: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a local DATABASE_URL (nothing rotates)
    monkeypatch.setenv("DATABASE_URL", "postgresql://elements:local@127.0.0.1/elements")
    reset_settings()
    # When the login is refused
    # Then the error is raised at once
    with pytest.raises(psycopg.OperationalError):
        db.connection()
    assert logins == ["local"]
    reset_settings()
