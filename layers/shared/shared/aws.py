"""boto3 clients, created lazily once per container (and per thread locally) and reused."""

from __future__ import annotations

import threading
from typing import Any

from shared.settings import get_settings

_local = threading.local()


def dynamodb() -> Any:
    """The low-level DynamoDB client (honours ``DYNAMODB_ENDPOINT`` for local stacks and tests)."""
    client = getattr(_local, "dynamodb", None)
    if client is None:
        import boto3
        from botocore.config import Config

        settings = get_settings()
        client = boto3.client(
            "dynamodb",
            region_name=settings.region,
            endpoint_url=settings.dynamodb_endpoint,
            config=Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=3, read_timeout=5),
        )
        if settings.is_local:  # local and test stages never reach AWS (shared/local_only.py)
            from shared.local_only import refuse_remote

            refuse_remote(client, settings.stage)
        _local.dynamodb = client
    return client


def reset_clients() -> None:
    _local.__dict__.clear()
