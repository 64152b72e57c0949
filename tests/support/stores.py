"""This test process pointed at a running local stack's stores (to inspect or write behind its back)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager


def reset_clients_and_settings() -> None:
    from fluorine import db
    from shared.aws import reset_clients
    from shared.settings import reset_settings

    reset_settings()
    reset_clients()
    db.close()


@contextmanager
def inside(stores: dict[str, str]) -> Iterator[None]:
    """This process pointed at ``stores``: ``database_url`` and/or ``dynamodb_endpoint``."""
    names = {"database_url": "DATABASE_URL", "dynamodb_endpoint": "DYNAMODB_ENDPOINT"}
    saved = {env: os.environ.get(env) for env in names.values()}
    os.environ.update({names[k]: v for k, v in stores.items()})
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
