"""Oxygen's use cases: plain functions of a command and its dependencies; no HTTP, no SQL."""

from __future__ import annotations

import uuid
from uuid import UUID

from oxygen import sessions
from oxygen.models import RegisterBody, RolesBody, UpdateMeBody
from oxygen.passwords import hash_password
from shared import internal
from shared.access import require_role
from shared.contracts.oxygen import (
    DeactivateEntity,
    EnsurePlatformAdmin,
    EntityState,
    RegisterEntity,
    SetPlatformRoles,
    UpdateEntity,
)
from shared.errors import InvalidRequest
from shared.readcache import wait_for_token
from shared.routes import Call


def register(body: RegisterBody, call: Call) -> internal.CallResult[EntityState]:
    command = RegisterEntity(
        id=uuid.uuid4(),
        kind=body.kind,
        handle=body.handle,
        display_name=body.display_name.strip(),
        email=body.email.lower() if body.email else None,
        password_hash=hash_password(body.password),
    )
    return internal.call("fluorine", command, EntityState, call.context)


def ensure_admin(handle: str, password: str) -> EntityState:
    """The bootstrap admin: created if missing, promoted if present (local stack, first deploy)."""
    command = EnsurePlatformAdmin(
        id=uuid.uuid4(), handle=handle, display_name=handle, password_hash=hash_password(password)
    )
    return internal.call("fluorine", command, EntityState).result


def update_me(body: UpdateMeBody, call: Call) -> internal.CallResult[EntityState]:
    """Change the caller's display name, email or password (the last two need the current password)."""
    entity_id, context = call.entity_id, call.context
    changes = body.model_fields_set - {"current_password"}
    if not changes:
        raise InvalidRequest(
            "Give at least one of display_name, email or password.",
            errors=[{"loc": ["body"], "msg": "No field to change", "type": "missing"}],
        )
    if changes & {"email", "password"}:
        sessions.check_current_password(entity_id, body.current_password, context)
    command = UpdateEntity(
        entity_id=entity_id,
        display_name=body.display_name.strip() if "display_name" in changes else None,
        email=body.email.lower() if "email" in changes else None,
        password_hash=hash_password(body.password) if "password" in changes else None,
        keep_session=context.actor.session_id if context.actor else None,
    )
    done = internal.call("fluorine", command, EntityState, context)
    if "password" in changes:  # the other sessions ended: the authorizer refuses them on the next request
        sessions.await_read_side(done.write_version, "sessions ended by a password change")
    return done


def await_read_side(write_version: str) -> None:
    """Block until the read cache reflects ``write_version`` (the authorizer reads it); 503 past the bound."""
    wait_for_token(write_version)


def deactivate(call: Call) -> internal.CallResult[EntityState]:
    """Deactivate the caller and end its sessions; answers once the authorizer will refuse its tokens."""
    command = DeactivateEntity(entity_id=call.entity_id, at=sessions.clock())
    done = internal.call("fluorine", command, EntityState, call.context)
    await_read_side(done.write_version or "")
    return done


def set_roles(entity_id: UUID, body: RolesBody, call: Call) -> internal.CallResult[EntityState]:
    """Replace an entity's platform roles (platform admin)."""
    require_role(call.caller)
    done = internal.call("fluorine", SetPlatformRoles(entity_id=entity_id, roles=body.roles), EntityState, call.context)
    sessions.await_read_side(done.write_version, "a role change")  # the authorizer reads roles there
    return done
