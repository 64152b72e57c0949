"""Signing and verification keys: loading, ``kid`` derivation and the JWKS document.

Keys are asymmetric (EC P-256 → ES256, RSA → RS256, Ed25519 → EdDSA). The ``kid`` is the key's
RFC 7638 thumbprint, so the same key always has the same id. Several public keys can be trusted
at once (the current one plus those being rotated out), so rotation logs nobody out.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm
from pydantic import SecretStr

from shared.settings import Settings, get_settings

PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey | ed25519.Ed25519PublicKey
PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


class KeyConfigurationError(RuntimeError):
    """The deployment's keys are missing or not acceptable for its stage."""


@dataclass(frozen=True)
class VerificationKey:
    kid: str
    alg: str
    key: PublicKey

    def jwk(self) -> dict[str, Any]:
        if isinstance(self.key, ec.EllipticCurvePublicKey):
            jwk = ECAlgorithm.to_jwk(self.key, as_dict=True)
        elif isinstance(self.key, rsa.RSAPublicKey):
            jwk = RSAAlgorithm.to_jwk(self.key, as_dict=True)
        else:
            jwk = OKPAlgorithm.to_jwk(self.key, as_dict=True)
        return {**jwk, "kid": self.kid, "alg": self.alg, "use": "sig"}


@dataclass(frozen=True)
class SigningKey:
    private_key: PrivateKey
    public: VerificationKey


def algorithm_for(key: PublicKey) -> str:
    if isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.name != "secp256r1":
            raise KeyConfigurationError("EC keys must be on P-256 (ES256)")
        return "ES256"
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < 2048:
            raise KeyConfigurationError("RSA keys must have at least 2048 bits")
        return "RS256"
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "EdDSA"
    raise KeyConfigurationError(f"unsupported key type {type(key).__name__}")


def thumbprint(key: PublicKey) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url)."""
    jwk = VerificationKey("", algorithm_for(key), key).jwk()
    members = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n"), "OKP": ("crv", "kty", "x")}[jwk["kty"]]
    canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).decode().rstrip("=")


def verification_key(key: PublicKey) -> VerificationKey:
    return VerificationKey(kid=thumbprint(key), alg=algorithm_for(key), key=key)


def signing_key_from_pem(pem: bytes) -> SigningKey:
    private = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(private, (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey, ed25519.Ed25519PrivateKey)):
        raise KeyConfigurationError("unsupported private key type")
    return SigningKey(private_key=private, public=verification_key(private.public_key()))


def public_keys_from_pem_bundle(pem: bytes) -> tuple[VerificationKey, ...]:
    """Every public key in a concatenation of PEM ``PUBLIC KEY`` blocks."""
    marker = b"-----END PUBLIC KEY-----"
    blocks = [chunk + marker for chunk in pem.split(marker) if chunk.strip()]
    keys = []
    for block in blocks:
        key = serialization.load_pem_public_key(block.strip())
        if not isinstance(key, (ec.EllipticCurvePublicKey, rsa.RSAPublicKey, ed25519.Ed25519PublicKey)):
            raise KeyConfigurationError("unsupported public key type")
        keys.append(verification_key(key))
    return tuple(keys)


def generate_signing_key_pem() -> bytes:
    """A new EC P-256 private key in PKCS#8 PEM (development and tests only)."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def public_pem(key: SigningKey) -> bytes:
    return key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


KEY_CACHE_SECONDS = 300  # a rotated key reaches every warm container within five minutes


def _parameter(name: str) -> str:
    """An SSM parameter or a Secrets Manager secret, cached by Powertools for ``KEY_CACHE_SECONDS``."""
    from aws_lambda_powertools.utilities import parameters

    if name.startswith("arn:aws:secretsmanager:"):
        return str(parameters.get_secret(name, max_age=KEY_CACHE_SECONDS))
    return str(parameters.get_parameter(name, decrypt=True, max_age=KEY_CACHE_SECONDS))


def _local_secret(settings: Settings, value: SecretStr | None, file: str | None) -> bytes | None:
    """A key given in the environment or a file: local stages only."""
    if value is None and not file:
        return None
    if not settings.is_local:
        raise KeyConfigurationError("a key from the environment or a file is refused outside local stages")
    return value.get_secret_value().encode() if value is not None else Path(file or "").read_bytes()


def _signing_pem(settings: Settings) -> bytes | None:
    if settings.signing_key_parameter:
        return _parameter(settings.signing_key_parameter).encode()
    return _local_secret(settings, settings.signing_key_pem, settings.signing_key_file)


# Parsing is cached by content: Powertools' cache decides when a rotated key is read again, and a
# local key file is read on every use (a rotation there applies at once).
_signing_key = lru_cache(maxsize=4)(signing_key_from_pem)
_public_keys = lru_cache(maxsize=4)(public_keys_from_pem_bundle)


def signing_key() -> SigningKey:
    """The key new access tokens are signed with."""
    pem = _signing_pem(get_settings())
    if pem is None:
        raise KeyConfigurationError("no signing key configured (SIGNING_KEY_PARAMETER or, locally, SIGNING_KEY_FILE)")
    return _signing_key(pem)


def trusted_keys() -> dict[str, VerificationKey]:
    """Every public key tokens may be signed with, by ``kid`` (current key first)."""
    settings = get_settings()
    keys: list[VerificationKey] = []
    if settings.public_keys_parameter:
        keys += _public_keys(_parameter(settings.public_keys_parameter).encode())
    elif settings.public_keys_file:
        keys += _public_keys(Path(settings.public_keys_file).read_bytes())
    pem = _signing_pem(settings) if not keys or settings.is_local else None
    if pem is not None:
        keys.insert(0, _signing_key(pem).public)
    if not keys:
        raise KeyConfigurationError("no verification keys configured")
    return {k.kid: k for k in keys}


_PROCESS_KEY = secrets.token_bytes(32)  # local runs that configure no key: valid for this process only


@lru_cache(maxsize=4)
def _hmac_key(raw: bytes) -> bytes:
    if len(raw.strip()) < 32:
        raise KeyConfigurationError("the write version key must have at least 32 characters")
    return hashlib.sha256(b"elements write version key\0" + raw.strip()).digest()


def write_version_key() -> bytes:
    """The HMAC key that binds write version tokens to their caller (``shared.write_versions``)."""
    settings = get_settings()
    if settings.write_version_key_secret_arn:
        return _hmac_key(_parameter(settings.write_version_key_secret_arn).encode())
    raw = _local_secret(settings, settings.write_version_key, settings.write_version_key_file)
    if raw is not None:
        return _hmac_key(raw)
    if settings.is_local:
        return _PROCESS_KEY
    raise KeyConfigurationError("no write version key configured (WRITE_VERSION_KEY_SECRET_ARN)")


def jwks() -> dict[str, Any]:
    return {"keys": [k.jwk() for k in trusted_keys().values()]}


def reset_keys() -> None:
    """Forget parsed keys and Powertools' cached parameters (tests change keys under a running process)."""
    from aws_lambda_powertools.utilities import parameters

    _signing_key.cache_clear()
    _public_keys.cache_clear()
    _hmac_key.cache_clear()
    parameters.clear_caches()
