"""The WebSocket API's routes (``$connect``, ``$disconnect``, ``$default``): live delivery's connections.

``$connect`` admits a connection only with a valid ticket (``?ticket=``, from
``POST /v1/realtime/tickets``): unknown, used or expired is refused (401), and so is a ticket of an
entity that is no longer active or of a login session revoked since (read consistently, as the
authorizer does). The connection then belongs to the ticket's entity and session, and is closed
when either ends (``rhenium.live.disconnect``). Clients have nothing to say on this channel: any
frame they send (``$default``) closes their connection, as a policy violation.
"""

from __future__ import annotations

from typing import Any

from rhenium import connections
from shared import snapstart
from shared.aws import connections_api, prime_dynamodb
from shared.observability import logger
from shared.readcache import token_holder
from shared.settings import get_settings

REFUSED = {"statusCode": 401, "body": "Unauthorized"}
OK = {"statusCode": 200}


def _connect(event: dict[str, Any], connection_id: str) -> dict[str, Any]:
    ticket = (event.get("queryStringParameters") or {}).get("ticket") or ""
    holder = connections.redeem_ticket(ticket) if 0 < len(ticket) <= 256 else None
    if holder is None:
        logger.info("websocket refused: unknown, used or expired ticket")
        return REFUSED
    entity, session = token_holder(holder.entity_id, holder.session_id)
    if entity is None or entity.status != "active" or session is None or session.revoked:
        logger.info("websocket refused: the ticket's entity is not active or its session has ended")
        return REFUSED
    connections.open_connection(holder, connection_id, entity.created_at)
    return OK


def _garbage(connection_id: str) -> dict[str, Any]:
    logger.info("websocket closed: the client sent a frame")
    connections.close_connection(connection_id)
    connections_api().delete_connection(ConnectionId=connection_id)
    return OK


@logger.inject_lambda_context(log_event=False, clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = event.get("requestContext") or {}
    route, connection_id = request.get("routeKey"), str(request.get("connectionId") or "")
    logger.set_correlation_id(request.get("requestId"))
    if route == "$connect":
        return _connect(event, connection_id)
    if route == "$disconnect":
        connections.close_connection(connection_id)
        return OK
    return _garbage(connection_id)


@snapstart.prime()
def prime() -> None:
    """Every connection redeems a ticket and reads its holder from the read cache."""
    prime_dynamodb()
    if get_settings().realtime_endpoint:
        connections_api()
