"""Oxygen's use cases: plain functions of a command and its dependencies; no HTTP, no SQL."""

from __future__ import annotations

import uuid

from oxygen.models import RegisterBody
from oxygen.passwords import hash_password
from shared import internal
from shared.contracts.oxygen import EnsurePlatformAdmin, EntityState, RegisterEntity


def register(body: RegisterBody, context: internal.CallContext) -> internal.CallResult[EntityState]:
    command = RegisterEntity(
        id=uuid.uuid4(),
        kind=body.kind,
        handle=body.handle,
        display_name=body.display_name.strip(),
        email=body.email.lower() if body.email else None,
        password_hash=hash_password(body.password),
    )
    return internal.call("fluorine", command, EntityState, context)


def ensure_admin(handle: str, password: str) -> EntityState:
    """The bootstrap admin: created if missing, promoted if present (local stack, first deploy)."""
    command = EnsurePlatformAdmin(
        id=uuid.uuid4(), handle=handle, display_name=handle, password_hash=hash_password(password)
    )
    return internal.call("fluorine", command, EntityState).result
