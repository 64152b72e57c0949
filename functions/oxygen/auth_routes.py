"""Oxygen's token routes: login, refresh, logout and the public keys (JWKS)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from oxygen import sessions
from oxygen.models import Jwks, LoginBody, RefreshBody, TokenPair
from shared.auth.keys import jwks
from shared.context import require_caller, source_address_of
from shared.http import context_of, json_response, written
from shared.internal import CallContext

router = Router()
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _context() -> CallContext:
    return context_of(router.current_event.raw_event)


@router.post("/v1/auth/token")
def token(body: LoginBody) -> Response[TokenPair]:
    source = source_address_of(router.current_event.raw_event)
    return json_response(200, sessions.login(body, source, _context()), NO_STORE)


@router.post("/v1/auth/refresh")
def refresh(body: RefreshBody) -> Response[TokenPair]:
    return json_response(200, sessions.refresh(body.refresh_token, _context()), NO_STORE)


@router.post("/v1/auth/logout", responses={204: {"description": "The session is ended (or was already)."}})
def logout(body: RefreshBody) -> Response[None]:
    caller = require_caller(router.current_event.raw_event)
    version = sessions.logout(caller.entity_id, body.refresh_token, _context())
    return written(204, None, version)


@router.get("/.well-known/jwks.json")
def public_keys() -> Response[Jwks]:
    return json_response(200, Jwks.of(jwks()), {"Cache-Control": "public, max-age=300"})
