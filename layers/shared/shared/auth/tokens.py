"""Access tokens: issue (Oxygen) and verify (the authorizer, or any handler that must check one).

Verification pins the algorithm to the one of the key named by ``kid``: ``alg: none``, HMAC
tokens signed with a public key, unknown ``kid``s, tampered payloads and expired or
wrong-audience tokens are all refused with the same ``Unauthorized``.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
from pydantic import BaseModel, Field, ValidationError

from shared.auth.keys import SigningKey, VerificationKey, signing_key, trusted_keys
from shared.context import Caller, EntityKind
from shared.errors import Unauthorized
from shared.settings import get_settings

LEEWAY_SECONDS = 5
REQUIRED_CLAIMS = ["iss", "aud", "sub", "iat", "exp", "jti"]


class AccessClaims(BaseModel):
    iss: str
    aud: str | list[str]
    sub: uuid.UUID
    kind: EntityKind
    roles: list[str] = Field(default_factory=list)
    iat: int
    exp: int
    jti: str
    sid: str | None = None  # the login session the token belongs to

    def caller(self) -> Caller:
        return Caller(entity_id=self.sub, kind=self.kind, roles=frozenset(self.roles))


def issue_access_token(
    entity_id: uuid.UUID,
    kind: str,
    roles: list[str],
    *,
    session_id: str | None = None,
    key: SigningKey | None = None,
    now: int | None = None,
) -> tuple[str, int]:
    """A signed access token and its lifetime in seconds."""
    settings = get_settings()
    key = key or signing_key()
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": str(entity_id),
        "kind": kind,
        "roles": sorted(roles),
        "iat": issued,
        "nbf": issued,
        "exp": issued + settings.access_token_ttl,
        "jti": str(uuid.uuid4()),
    }
    if session_id:
        claims["sid"] = session_id
    token = jwt.encode(claims, key.private_key, algorithm=key.public.alg, headers={"kid": key.public.kid})
    return token, settings.access_token_ttl


def _key_for(token: str, keys: dict[str, VerificationKey]) -> VerificationKey:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise Unauthorized("The token is malformed.") from exc
    key = keys.get(str(header.get("kid") or ""))
    if key is None or header.get("alg") != key.alg:
        raise Unauthorized("The token is not signed by a trusted key.")
    return key


def verify_access_token(token: str, *, keys: dict[str, VerificationKey] | None = None) -> AccessClaims:
    """The token's claims, or ``Unauthorized`` for anything short of a valid, current token."""
    settings = get_settings()
    key = _key_for(token, keys if keys is not None else trusted_keys())
    try:
        claims = jwt.decode(
            token,
            key.key,
            algorithms=[key.alg],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": REQUIRED_CLAIMS},
        )
        return AccessClaims.model_validate(claims)
    except (jwt.PyJWTError, ValidationError) as exc:
        raise Unauthorized("The token is invalid or expired.") from exc


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("A bearer token is required.")
    return token.strip()
