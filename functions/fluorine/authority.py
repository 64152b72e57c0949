"""Who may run a command, decided on PostgreSQL's truth inside the command's own transaction.

The element's own check (from the authorizer's context, which comes from the read cache) is only
the fast first refusal: a read cache that is missing, stale or wrong must never let a write
through. So every command declares the authority it needs, and the bus checks the actor the
call carries against the ``entities`` and ``auth_sessions`` rows before the handler runs.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from fluorine.uow import UnitOfWork
from shared.access import PLATFORM_ADMIN
from shared.errors import Forbidden, Unauthorized
from shared.internal import Actor


class Authority(Enum):
    PUBLIC = "public"  # anyone, signed in or not (registration, the steps of a login)
    SYSTEM = "system"  # internal components only (triggers, bootstrap, maintenance): never on a caller's behalf
    CALLER = "caller"  # an active entity in a live login session, acting as itself
    ADMIN = "admin"  # a CALLER that holds the platform role ``admin``


# One round trip: the caller's status and roles, and whether the token's session is live.
CALLER_ROW = """
    SELECT e.status = 'active', e.roles, s.id IS NOT NULL AND s.revoked_at IS NULL
    FROM entities e LEFT JOIN auth_sessions s ON s.id = %s AND s.entity_id = e.id
    WHERE e.id = %s
"""


def authorize(uow: UnitOfWork, authority: Authority, actor: Actor | None, command: Any, acts_as: str | None) -> None:
    """Refuse the command unless ``actor`` holds ``authority`` now (401 or 403), in ``uow``'s transaction.

    ``acts_as`` names the command's field that must be the actor's own entity id (the sender of a
    message, the payer of a transfer, the member acting on a group).
    """
    if authority is Authority.PUBLIC:
        return
    if authority is Authority.SYSTEM:
        if actor is not None:
            raise Forbidden("This operation is not available to callers.")
        return
    if actor is None or actor.session_id is None:
        raise Unauthorized("A signed-in caller is required.")
    if acts_as is not None and getattr(command, acts_as) != actor.entity_id:
        raise Forbidden("A caller may act only for itself.")
    row = uow.execute(CALLER_ROW, (actor.session_id, actor.entity_id)).fetchone()
    if row is None or not row[0]:
        raise Unauthorized("The caller does not exist or is deactivated.")
    if not row[2]:
        raise Unauthorized("The caller's login session has ended.")
    if authority is Authority.ADMIN and PLATFORM_ADMIN not in (row[1] or []):
        raise Forbidden(f"This action needs the platform role '{PLATFORM_ADMIN}'.")
