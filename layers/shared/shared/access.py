"""Declarative access guards, with the contract's rule on 403 versus 404.

A caller who may not know a resource exists gets 404 ``not_found`` (private groups, other
people's messages); a caller who can see it but may not act on it gets 403 ``forbidden``.
"""

from __future__ import annotations

from collections.abc import Iterable

from shared.context import Caller
from shared.errors import Forbidden, NotFound, Unauthorized

PLATFORM_ADMIN = "admin"
PLATFORM_ROLES = frozenset({"admin", "issuer", "moderator"})


def require_role(caller: Caller | None, role: str = PLATFORM_ADMIN) -> None:
    """The fast first refusal of a platform-role action (Fluorine decides it again, on the truth)."""
    if caller is None:
        raise Unauthorized("A valid bearer token is required.")
    if not caller.has_role(role):
        raise Forbidden(f"This action needs the platform role '{role}'.")


def require_group_role(member_role: str | None, allowed: Iterable[str], *, private: bool) -> None:
    """Guard an action on a group: outsiders of a private group see 404, others 403."""
    if member_role is None and private:
        raise NotFound("The group does not exist.")
    if member_role not in set(allowed):
        raise Forbidden("Your role in this group does not allow this action.")
