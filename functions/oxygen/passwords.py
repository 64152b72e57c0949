"""Password hashing with Argon2id (OWASP's minimum: m=19 MiB, t=2, p=1), PHC-encoded.

The PHC string stores its own parameters, so they can be raised later: ``needs_rehash`` tells
when a stored hash is weaker than today's parameters.
"""

from __future__ import annotations

import os
import re

from cryptography.exceptions import InvalidKey
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

MEMORY_KIB = 19_456
ITERATIONS = 2
LANES = 1
SALT_BYTES = 16
HASH_BYTES = 32
_PARAMS = re.compile(r"^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$")
# Verified against when the login is unknown, so both answers cost the same.
_DUMMY = "$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"


def hash_password(password: str) -> str:
    kdf = Argon2id(
        salt=os.urandom(SALT_BYTES), length=HASH_BYTES, iterations=ITERATIONS, lanes=LANES, memory_cost=MEMORY_KIB
    )
    return kdf.derive_phc_encoded(password.encode())


def verify_password(password: str, encoded: str | None) -> bool:
    """Constant-time check; an unknown login (``encoded`` None) costs the same as a wrong password."""
    try:
        Argon2id.verify_phc_encoded(password.encode(), encoded or _DUMMY)
    except (InvalidKey, ValueError):
        return False
    return encoded is not None


def needs_rehash(encoded: str) -> bool:
    found = _PARAMS.match(encoded)
    if not found:
        return True
    memory, iterations, lanes = map(int, found.groups())
    return memory < MEMORY_KIB or iterations < ITERATIONS or lanes < LANES
