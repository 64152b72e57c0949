"""Francium's REST reads: health, self-description and the read views, with ``X-Min-Version``."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.params import Query

from francium.freshness import wait_for
from francium.views import entities, load_all
from shared.access import require_visible
from shared.context import min_version_of, require_caller
from shared.contracts.oxygen import EntityOut, PublicProfileList, PublicProfileOut
from shared.errors import NotFound
from shared.http import create_app, lambda_handler
from shared.validation import HANDLE_PATTERN

load_all()
app = create_app()


def read_your_writes(app_: Any, next_middleware: NextMiddleware) -> Response:
    token = min_version_of(app_.current_event.raw_event)
    if token:
        wait_for(token)
    return next_middleware(app_)


app.use(middlewares=[read_your_writes])


@app.get("/v1/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/v1/openapi.json")
def openapi() -> dict[str, Any]:
    from shared.openapi import document

    return document()


@app.get("/v1/entities/me")
def me() -> EntityOut:
    caller = require_caller(app.current_event.raw_event)
    found = entities.active_entity(caller.entity_id)
    if found is None:
        raise NotFound("The entity does not exist.")
    return EntityOut.of(found)


@app.get("/v1/entities/<entity_id>")
def entity(entity_id: str) -> PublicProfileOut:
    try:
        found = entities.active_entity(UUID(entity_id))
    except ValueError:
        found = None
    require_visible(found is not None, "entity")
    assert found is not None
    return PublicProfileOut.of(found)


@app.get("/v1/entities")
def entity_by_handle(handle: Annotated[str, Query(pattern=HANDLE_PATTERN)]) -> PublicProfileList:
    found = entities.entity_by_handle(handle)
    return PublicProfileList(items=[PublicProfileOut.of(found)] if found else [])


handler = lambda_handler(app)
