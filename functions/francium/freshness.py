"""Read-your-writes: wait (boundedly) until the read cache reflects an ``X-Min-Version`` token."""

from __future__ import annotations

from uuid import UUID

from shared.errors import InvalidRequest
from shared.readcache import wait_for_versions
from shared.write_versions import InvalidWriteVersion, verify


def wait_for(token: str, caller: UUID) -> None:
    """Return once every aggregate named by ``token`` is projected at its version; else 503.

    A token that is malformed, altered or was issued to another caller is 400 at once: it never
    reads anything, so it cannot probe another caller's data or hold a reader waiting.
    """
    try:
        wanted = verify(token, caller)
    except InvalidWriteVersion as exc:
        raise InvalidRequest(
            "X-Min-Version is not a write version token issued to this caller.",
            errors=[{"loc": ["header", "X-Min-Version"], "msg": "Invalid write version", "type": "value_error"}],
        ) from exc
    wait_for_versions(wanted)
