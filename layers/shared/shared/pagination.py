"""Cursor pagination for every list: ``?limit=`` (1..100, default 20), ``?cursor=`` (opaque).

A cursor is the base64url JSON of the position after the last item returned. It is opaque to
clients and only ever positions a query inside the caller's own partition: readers rebuild the
partition key from the request, never from the cursor.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, TypeVar

from shared.errors import InvalidRequest

T = TypeVar("T")
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_CURSOR_LENGTH = 2048


def encode_cursor(position: dict[str, Any] | None) -> str | None:
    if not position:
        return None
    raw = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    """The position a cursor encodes; 400 ``invalid_request`` for anything else."""
    if cursor is None:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        value = None
    if not isinstance(value, dict):
        raise InvalidRequest(
            "The cursor is not valid.",
            errors=[{"loc": ["query", "cursor"], "msg": "Invalid cursor", "type": "value_error"}],
        )
    return value
