"""Login sessions in the read cache: only whether one was revoked (for the authorizer)."""

from __future__ import annotations

from uuid import UUID

from francium import cache
from francium.cache import CacheItem
from francium.projector import projection
from shared.contracts.changes import ChangeRecord
from shared.contracts.oxygen import EntityState, entity_aggregate
from shared.contracts.oxygen_auth import SessionState, session_aggregate


@projection("session")
def project_session(record: ChangeRecord) -> list[CacheItem]:
    state = SessionState.model_validate(record.payload)
    return [CacheItem(pk=record.aggregate, sk=cache.STATE, ver=record.version, data=state.model_dump(mode="json"))]


def token_holder(entity_id: UUID, session_id: str | None) -> tuple[EntityState | None, SessionState | None]:
    """The entity and (if the token names one) the session of an access token, in one round trip."""
    keys = [(entity_aggregate(entity_id), cache.STATE)]
    if session_id:
        keys.append((session_aggregate(session_id), cache.STATE))
    found = cache.batch_get(keys)
    entity = found.get(keys[0])
    session = found.get(keys[1]) if len(keys) > 1 else None
    return (
        EntityState.model_validate(entity) if entity else None,
        SessionState.model_validate(session) if session else None,
    )
