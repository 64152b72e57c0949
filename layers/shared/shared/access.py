"""Declarative access guards, with the contract's rule on 403 versus 404.

A caller who may not know a resource exists gets 404 ``not_found`` (private groups, other
people's messages); a caller who can see it but may not act on it gets 403 ``forbidden``.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from shared.context import Caller
from shared.errors import Forbidden, NotFound

PLATFORM_ADMIN = "admin"
PLATFORM_ROLES = frozenset({"admin", "issuer", "moderator"})


def require_role(caller: Caller, role: str = PLATFORM_ADMIN) -> None:
    if not caller.has_role(role):
        raise Forbidden(f"This action needs the platform role '{role}'.")


def require_self_or_role(caller: Caller, entity_id: UUID, role: str = PLATFORM_ADMIN) -> None:
    if caller.entity_id != entity_id and not caller.has_role(role):
        raise Forbidden("Only the entity itself or a platform admin may do this.")


def require_owner(caller: Caller, owner_id: UUID) -> None:
    if caller.entity_id != owner_id:
        raise Forbidden("Only the owner may do this.")


def require_visible(visible: bool, what: str = "resource") -> None:
    """404 for a resource the caller may not know exists."""
    if not visible:
        raise NotFound(f"The {what} does not exist.")


def require_group_role(member_role: str | None, allowed: Iterable[str], *, private: bool) -> None:
    """Guard an action on a group: outsiders of a private group see 404, others 403."""
    if member_role is None and private:
        raise NotFound("The group does not exist.")
    if member_role not in set(allowed):
        raise Forbidden("Your role in this group does not allow this action.")
