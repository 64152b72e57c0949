"""Access tokens for tests, signed with the test key (or any other key, for attack cases)."""

from __future__ import annotations

import uuid

from shared.auth.tokens import issue_access_token


def token_for(
    entity_id: uuid.UUID | str,
    kind: str = "real",
    roles: list[str] | None = None,
    *,
    session_id: uuid.UUID | str | None = None,
    issued_at: int | None = None,
) -> str:
    """A validly signed token; it names ``session_id`` (a random, unknown one by default)."""
    session = str(session_id or uuid.uuid4())
    return issue_access_token(uuid.UUID(str(entity_id)), kind, roles or [], session_id=session, now=issued_at)[0]


def bearer(entity_id: uuid.UUID | str, kind: str = "real", roles: list[str] | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(entity_id, kind, roles)}"}
