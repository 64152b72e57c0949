"""Login sessions in the read cache: whether one is live or revoked (the authorizer reads it,
through ``shared.readcache.token_holder``)."""

from __future__ import annotations

from francium import cache
from francium.cache import CacheItem
from francium.projector import projection
from shared.contracts.changes import ChangeRecord
from shared.contracts.oxygen_auth import SessionState


@projection("session")
def project_session(record: ChangeRecord) -> list[CacheItem]:
    state = SessionState.model_validate(record.payload)
    return [CacheItem(pk=record.aggregate, sk=cache.STATE, ver=record.version, data=state.model_dump(mode="json"))]
