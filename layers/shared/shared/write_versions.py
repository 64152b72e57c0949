"""Write version tokens (``X-Write-Version`` / ``X-Min-Version``): opaque, tamper-evident, bound to a caller.

A token names the aggregates a write produced and their versions, and the entity it was issued
to, under an HMAC (``shared.auth.keys.write_version_key``). A read presents it to wait for the
read side to reach those versions; one that was altered, forged or issued to someone else is
refused at once, so a token can neither probe another caller's data nor hold a reader waiting.

Format: ``v1.<base64url(subject "|" aggregate=version;...)>.<base64url(HMAC-SHA256, 16 bytes)>``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from uuid import UUID

from shared.contracts.changes import AGGREGATE_PATTERN, AggregateVersion

PREFIX = "v1"
MAC_BYTES = 16
MAX_TOKEN_CHARS = 8192


class InvalidWriteVersion(ValueError):
    """Not a token this API issued to this caller."""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(payload: bytes) -> bytes:
    # Imported here: the keys module brings PyJWT and cryptography (~70 ms of an init), which the
    # functions that only import this module (the projector, the maintenance function) never need.
    # Those that issue or check tokens load the key in their prime (``write_version_key()``).
    from shared.auth.keys import write_version_key

    return hmac.new(write_version_key(), payload, hashlib.sha256).digest()[:MAC_BYTES]


def issue(versions: list[AggregateVersion], subject: UUID) -> str:
    """The token of a write by (or, for a registration, for) ``subject``; empty if it names nothing."""
    if not versions:
        return ""
    payload = f"{subject}|" + ";".join(f"{v.aggregate}={v.version}" for v in versions)
    raw = payload.encode()
    return f"{PREFIX}.{_b64(raw)}.{_b64(_mac(raw))}"


def read(token: str) -> tuple[UUID, list[AggregateVersion]]:
    """The subject and the versions of a genuine token (its MAC checked), whoever presents it."""
    prefix, _, rest = (token or "").partition(".")
    body, _, mac = rest.partition(".")
    if prefix != PREFIX or not body or not mac or len(token) > MAX_TOKEN_CHARS:
        raise InvalidWriteVersion("not a write version token")
    try:
        raw, given = _unb64(body), _unb64(mac)
    except (binascii.Error, ValueError) as exc:
        raise InvalidWriteVersion("not a write version token") from exc
    if not hmac.compare_digest(given, _mac(raw)):
        raise InvalidWriteVersion("not a write version token")
    subject, _, listed = raw.decode().partition("|")
    versions = []
    for part in filter(None, listed.split(";")):
        aggregate, _, number = part.rpartition("=")
        if not AGGREGATE_PATTERN.fullmatch(aggregate) or not number.isdigit():
            raise InvalidWriteVersion("not a write version token")
        versions.append(AggregateVersion(aggregate=aggregate, version=int(number)))
    return UUID(subject), versions


def verify(token: str, caller: UUID) -> list[AggregateVersion]:
    """The versions a token names, if it is genuine and was issued to ``caller``."""
    subject, versions = read(token)
    if subject != caller:
        raise InvalidWriteVersion("the token was issued to another caller")
    return versions
