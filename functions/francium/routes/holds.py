"""Reads of Nickel's holds: one hold (its payer or payee only), and the caller's holds."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from francium.views import holds
from shared.context import require_caller
from shared.contracts.nickel_holds import HoldList, HoldOut, HoldRole, HoldStatus
from shared.errors import NotFound
from shared.list_params import Cursor, Limit
from shared.pagination import DEFAULT_LIMIT
from shared.routes import uuid_or_404

router = Router()


@router.get("/v1/holds")
def my_holds(
    role: Annotated[HoldRole | None, Query(description="Only the holds the caller pays, or is paid.")] = None,
    status: Annotated[HoldStatus | None, Query(description="Only the holds in this status.")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> HoldList:
    """The caller's holds (as payer and payee, unless ``role`` says which), newest first."""
    caller = require_caller(router.current_event.raw_event)
    page, after = holds.holds_page(caller.entity_id, role, status, limit, cursor)
    return HoldList(items=[HoldOut.of(h) for h in page], next_cursor=after)


@router.get("/v1/holds/<hold_id>")
def hold(hold_id: str) -> HoldOut:
    """One hold (404 to anyone but its payer and its payee)."""
    caller = require_caller(router.current_event.raw_event)
    found = holds.hold(uuid_or_404(hold_id, "hold"), caller.entity_id)
    if found is None:
        raise NotFound("The hold does not exist.")
    return HoldOut.of(found)
