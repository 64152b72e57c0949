"""Reads of entities: the caller's own entity, public profiles, lookup by handle."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from francium.views import entities
from shared.context import require_caller
from shared.contracts.oxygen import EntityOut, PublicProfileList, PublicProfileOut
from shared.errors import NotFound
from shared.routes import uuid_or_404
from shared.validation import HANDLE_PATTERN

router = Router()


@router.get("/v1/entities/me")
def me() -> EntityOut:
    """The caller's own entity."""
    caller = require_caller(router.current_event.raw_event)
    found = entities.active_entity(caller.entity_id)
    if found is None:
        raise NotFound("The entity does not exist.")
    return EntityOut.of(found)


@router.get("/v1/entities/<entity_id>")
def entity(entity_id: str) -> PublicProfileOut:
    """An active entity's public profile (404 if unknown or deactivated)."""
    found = entities.active_entity(uuid_or_404(entity_id, "entity"))
    if found is None:
        raise NotFound("The entity does not exist.")
    return PublicProfileOut.of(found)


@router.get("/v1/entities")
def entity_by_handle(handle: Annotated[str, Query(pattern=HANDLE_PATTERN)]) -> PublicProfileList:
    """The active entity with this handle, as a list of zero or one public profile."""
    found = entities.entity_by_handle(handle)
    return PublicProfileList(items=[PublicProfileOut.of(found)] if found else [])
