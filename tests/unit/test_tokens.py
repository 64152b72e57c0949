"""Access tokens: every forgery and misuse is the same 401, and key rotation logs nobody out."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from shared.auth.keys import (
    generate_signing_key_pem,
    jwks,
    public_pem,
    reset_keys,
    signing_key,
    signing_key_from_pem,
    trusted_keys,
)
from shared.auth.tokens import issue_access_token, verify_access_token
from shared.errors import Unauthorized
from shared.settings import get_settings, reset_settings

ENTITY = uuid.uuid4()


@pytest.fixture(autouse=True)
def fresh_keys() -> Iterator[None]:
    reset_settings()
    reset_keys()
    yield
    reset_settings()
    reset_keys()


def claims(**overrides: object) -> dict[str, object]:
    now = int(time.time())
    settings = get_settings()
    base: dict[str, object] = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": str(ENTITY),
        "kind": "real",
        "roles": ["admin"],
        "iat": now,
        "exp": now + 600,
        "jti": str(uuid.uuid4()),
    }
    base.update(overrides)
    return base


def signed(payload: dict[str, object], **header: object) -> str:
    key = signing_key()
    return jwt.encode(payload, key.private_key, algorithm="ES256", headers={"kid": key.public.kid, **header})


def b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def test_a_token_issued_by_oxygen_verifies_with_its_claims() -> None:
    token, ttl = issue_access_token(ENTITY, "legal", ["issuer"], session_id="s-1")
    found = verify_access_token(token)
    assert (found.sub, found.kind, found.roles, found.sid) == (ENTITY, "legal", ["issuer"], "s-1")
    assert jwt.get_unverified_header(token)["kid"] == signing_key().public.kid
    assert ttl == get_settings().access_token_ttl


def test_alg_none_is_refused() -> None:
    token = f"{b64({'alg': 'none', 'typ': 'JWT', 'kid': signing_key().public.kid})}.{b64(claims())}."
    with pytest.raises(Unauthorized):
        verify_access_token(token)


def test_hs256_signed_with_the_public_key_is_refused() -> None:
    key = signing_key()
    pem = public_pem(key)
    header = {"alg": "HS256", "typ": "JWT", "kid": key.public.kid}
    signing_input = f"{b64(header)}.{b64(claims())}".encode()
    signature = base64.urlsafe_b64encode(hmac.new(pem, signing_input, hashlib.sha256).digest()).decode().rstrip("=")
    with pytest.raises(Unauthorized):
        verify_access_token(f"{signing_input.decode()}.{signature}")


@pytest.mark.parametrize("kid", ["unknown-kid", "", None])
def test_an_unknown_or_missing_kid_is_refused(kid: str | None) -> None:
    key = signing_key()
    headers = {"kid": kid} if kid is not None else {}
    token = jwt.encode(claims(), key.private_key, algorithm="ES256", headers=headers)
    with pytest.raises(Unauthorized):
        verify_access_token(token)


def test_a_token_signed_by_a_foreign_key_claiming_our_kid_is_refused() -> None:
    foreign = ec.generate_private_key(ec.SECP256R1())
    token = jwt.encode(claims(), foreign, algorithm="ES256", headers={"kid": signing_key().public.kid})
    with pytest.raises(Unauthorized):
        verify_access_token(token)


def test_an_expired_token_is_refused() -> None:
    past = int(time.time()) - 3600
    with pytest.raises(Unauthorized):
        verify_access_token(signed(claims(iat=past, exp=past + 60)))


def test_a_wrong_audience_is_refused() -> None:
    with pytest.raises(Unauthorized):
        verify_access_token(signed(claims(aud="another-api")))


def test_a_wrong_issuer_is_refused() -> None:
    with pytest.raises(Unauthorized):
        verify_access_token(signed(claims(iss="https://evil.example")))


def test_a_tampered_payload_is_refused() -> None:
    header, _, signature = signed(claims(roles=[])).split(".")
    forged_payload = b64(claims(roles=["admin"]))
    with pytest.raises(Unauthorized):
        verify_access_token(f"{header}.{forged_payload}.{signature}")


@pytest.mark.parametrize("missing", ["sub", "exp", "jti", "iat"])
def test_a_token_missing_a_required_claim_is_refused(missing: str) -> None:
    payload = claims()
    payload.pop(missing)
    with pytest.raises(Unauthorized):
        verify_access_token(signed(payload))


@pytest.mark.parametrize("garbage", ["", "a.b", "a.b.c", "😀.😀.😀", "e30.e30.e30"])
def test_garbage_is_refused(garbage: str) -> None:
    with pytest.raises(Unauthorized):
        verify_access_token(garbage)


def test_rotation_keeps_old_tokens_valid_while_both_keys_are_published(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an old key that signed a token, and a new current signing key
    old = signing_key_from_pem(generate_signing_key_pem())
    new_pem = generate_signing_key_pem()
    new = signing_key_from_pem(new_pem)
    (tmp_path / "signing.pem").write_bytes(new_pem)
    bundle = tmp_path / "public-keys.pem"
    bundle.write_bytes(public_pem(new) + public_pem(old))
    monkeypatch.setenv("SIGNING_KEY_FILE", str(tmp_path / "signing.pem"))
    monkeypatch.setenv("PUBLIC_KEYS_FILE", str(bundle))
    reset_settings()
    reset_keys()
    old_token, _ = issue_access_token(ENTITY, "real", [], key=old)
    # When both public keys are trusted
    # Then the old token still verifies, new tokens are signed with the new key, and JWKS lists both
    assert verify_access_token(old_token).sub == ENTITY
    new_token, _ = issue_access_token(ENTITY, "real", [])
    assert jwt.get_unverified_header(new_token)["kid"] == new.public.kid
    assert {k["kid"] for k in jwks()["keys"]} == {old.public.kid, new.public.kid}
    # When the old key is withdrawn from the published set
    bundle.write_bytes(public_pem(new))
    reset_keys()
    # Then the old token no longer verifies, the new one still does
    with pytest.raises(Unauthorized):
        verify_access_token(old_token)
    assert verify_access_token(new_token).sub == ENTITY
    assert list(trusted_keys()) == [new.public.kid]


def test_jwks_never_carries_private_material() -> None:
    for key in jwks()["keys"]:
        assert {"kid", "kty", "alg", "use"} <= set(key)
        assert "d" not in key
