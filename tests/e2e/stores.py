"""This test process pointed at the running stack's own stores, and the read-cache drift check.

Francium's ``verify`` compares the stack's read cache (its DynamoDB) with the truth: the latest
committed event of each aggregate, which Fluorine's ``LatestEvents`` reads from its PostgreSQL.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.support.polling import wait_until


def reset_clients_and_settings() -> None:
    from fluorine import db
    from shared.aws import reset_clients
    from shared.settings import reset_settings

    reset_settings()
    reset_clients()
    db.close()


@contextmanager
def inside(stores: dict[str, str]) -> Iterator[None]:
    """This process pointed at the running stack's PostgreSQL and DynamoDB."""
    saved = {k: os.environ.get(k) for k in ("DATABASE_URL", "DYNAMODB_ENDPOINT")}
    os.environ.update(DATABASE_URL=stores["database_url"], DYNAMODB_ENDPOINT=stores["dynamodb_endpoint"])
    reset_clients_and_settings()
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        reset_clients_and_settings()


def assert_no_drift(stores: dict[str, str]) -> dict[str, Any]:
    """The stack's read cache matches the latest committed events, once the change feed settled."""
    from francium import maintenance

    with inside(stores):
        found: dict[str, Any] = wait_until(maintenance.verify, lambda f: f["count"] == 0, "a read cache without drift")
    assert found["aggregates_checked"] > 0
    return found
