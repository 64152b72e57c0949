"""Oxygen's token routes: login, refresh, logout and the public keys (JWKS)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from oxygen import sessions
from oxygen.models import Jwks, LoginBody, RefreshBody, TokenPair
from shared.auth.keys import jwks
from shared.context import source_address_of
from shared.contracts.oxygen_auth import SessionsRevoked
from shared.http import context_of, json_response
from shared.internal import CallResult
from shared.routes import Call, Writes

router = Router()
writes = Writes(router)
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@router.post("/v1/auth/token")
def token(body: LoginBody) -> Response[TokenPair]:
    """Log in with a handle or email and a password: a token pair (429 after repeated failures)."""
    event = router.current_event.raw_event
    return json_response(200, sessions.login(body, source_address_of(event), context_of(event)), NO_STORE)


@router.post("/v1/auth/refresh")
def refresh(body: RefreshBody) -> Response[TokenPair]:
    """Spend a refresh token for a new pair of the same session."""
    pair = sessions.refresh(body.refresh_token, context_of(router.current_event.raw_event))
    return json_response(200, pair, NO_STORE)


@writes.post("/v1/auth/logout", 204)
def logout(body: RefreshBody, call: Call) -> CallResult[SessionsRevoked]:
    """End the session of this refresh token (or nothing, if it is not the caller's live one)."""
    return sessions.logout(body.refresh_token, call)


@router.get("/.well-known/jwks.json")
def public_keys() -> Response[Jwks]:
    """The public keys access tokens are signed with."""
    return json_response(200, Jwks.of(jwks()), {"Cache-Control": "public, max-age=300"})
