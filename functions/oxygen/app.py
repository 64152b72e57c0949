"""Oxygen's routes: thin adapters from HTTP to the use cases in ``oxygen.logic`` and ``oxygen.sessions``."""

from __future__ import annotations

from uuid import UUID

from aws_lambda_powertools.event_handler import Response

from oxygen import logic
from oxygen.auth_routes import router as auth_router
from oxygen.models import RegisterBody, RolesBody, UpdateMeBody
from shared.access import require_role
from shared.context import require_caller
from shared.contracts.oxygen import EntityOut
from shared.errors import NotFound
from shared.http import call_context, create_app, lambda_handler, written

app = create_app()
app.include_router(auth_router)


@app.post("/v1/entities")
def register(body: RegisterBody) -> Response[EntityOut]:
    done = logic.register(body, call_context(app))
    return written(201, EntityOut.of(done.result), done.write_version or "")


@app.patch("/v1/entities/me")
def update_me(body: UpdateMeBody) -> Response[EntityOut]:
    caller = require_caller(app.current_event.raw_event)
    done = logic.update_me(caller.entity_id, body, call_context(app))
    return written(200, EntityOut.of(done.result), done.write_version or "")


@app.delete("/v1/entities/me", responses={204: {"description": "Deactivated; its tokens no longer work."}})
def deactivate_me() -> Response[None]:
    caller = require_caller(app.current_event.raw_event)
    return written(204, None, logic.deactivate(caller.entity_id, call_context(app)))


@app.put("/v1/entities/<entity_id>/roles")
def set_roles(entity_id: str, body: RolesBody) -> Response[EntityOut]:
    require_role(require_caller(app.current_event.raw_event))
    try:
        target = UUID(entity_id)
    except ValueError:
        raise NotFound("The entity does not exist.") from None
    done = logic.set_roles(target, body, call_context(app))
    return written(200, EntityOut.of(done.result), done.write_version or "")


handler = lambda_handler(app)
