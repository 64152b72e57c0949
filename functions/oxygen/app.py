"""Oxygen's routes: each declares its answer and calls one use case of ``oxygen.logic`` or ``oxygen.sessions``."""

from __future__ import annotations

import uuid

from oxygen import logic
from oxygen.auth_routes import router as auth_router
from oxygen.models import RegisterBody, RolesBody, UpdateMeBody
from shared import snapstart
from shared.auth.keys import trusted_keys, write_version_key
from shared.auth.tokens import issue_access_token
from shared.aws import prime_dynamodb
from shared.contracts.oxygen import EntityOut, EntityState
from shared.contracts.oxygen_auth import Credentials, Rotation, SessionStarted
from shared.http import create_app, lambda_handler, prime_request
from shared.internal import CallResult, prime_invoke
from shared.routes import Call, Writes, uuid_or_404

app = create_app()
app.include_router(auth_router)
writes = Writes(app)


@writes.post("/v1/entities", 201, EntityOut, public=True)
def register(body: RegisterBody, call: Call) -> CallResult[EntityState]:
    """Register an entity (public)."""
    return logic.register(body, call)


@writes.patch("/v1/entities/me", 200, EntityOut)
def update_me(body: UpdateMeBody, call: Call) -> CallResult[EntityState]:
    """Change the caller's display name, email or password (a new password ends the other sessions)."""
    return logic.update_me(body, call)


@writes.delete("/v1/entities/me", 204)
def deactivate_me(call: Call) -> CallResult[EntityState]:
    """Deactivate the caller: its tokens stop working, its handle stays reserved."""
    return logic.deactivate(call)


@writes.put("/v1/entities/<entity_id>/roles", 200, EntityOut)
def set_roles(entity_id: str, body: RolesBody, call: Call) -> CallResult[EntityState]:
    """Replace an entity's platform roles (platform admin)."""
    return logic.set_roles(uuid_or_404(entity_id, "entity"), body, call)


handler = lambda_handler(app)


@snapstart.prime()
def prime() -> None:
    """Every route calls Fluorine and reads the read cache; tokens are signed and verified with the
    keys (parameters fetched now, kept by Powertools' cache on the wall clock, which a restore keeps)."""
    from cryptography.hazmat.backends.openssl import backend  # noqa: F401 - loaded on first signature

    prime_dynamodb()
    prime_invoke(Rotation, Credentials, SessionStarted)
    prime_request(handler, "POST", "/v1/auth/refresh", "{}")
    issue_access_token(uuid.UUID(int=0), "real", [])
    trusted_keys()
    write_version_key()
