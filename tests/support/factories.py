"""Factories: entities registered through the real write path (and cleaned by the fixtures)."""

from __future__ import annotations

import itertools
import uuid

from fluorine import bus
from shared.contracts.oxygen import EntityState, RegisterEntity

_counter = itertools.count(1)
# A real Argon2id hash of "correct horse battery" (hashing in every factory call would slow tests).
PASSWORD = "correct horse battery"
PASSWORD_HASH = "$argon2id$v=19$m=19456,t=2,p=1$60++MCelUp/V064UtBN+mg$aq97FqNd1kxGUWFStub1ZWNREeeskdK1Pd/kqwWRPtk"


def register_command(**overrides: object) -> RegisterEntity:
    n = next(_counter)
    fields: dict[str, object] = {
        "id": uuid.uuid4(),
        "kind": "real",
        "handle": f"user_{n}_{uuid.uuid4().hex[:6]}",
        "display_name": f"User {n}",
        "email": None,
        "password_hash": PASSWORD_HASH,
    }
    fields.update(overrides)
    return RegisterEntity.model_validate(fields)


def register_entity(**overrides: object) -> tuple[EntityState, bus.Outcome]:
    """Register through Fluorine's bus (committed, not yet published); the entity and the outcome."""
    outcome = bus.execute(register_command(**overrides).model_dump(mode="json"))
    return EntityState.model_validate(outcome.result), outcome
