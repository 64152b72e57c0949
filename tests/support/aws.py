"""moto's DynamoDB (streams included) holding template.yaml's tables, for tests and benchmarks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3
from moto import mock_aws

from infra.local.moto_streams import atomic_stream_appends
from infra.local.services import table_spec
from infra.local.template import load
from shared.aws import reset_clients
from shared.settings import reset_settings

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def moto_tables() -> Iterator[None]:
    atomic_stream_appends()  # the publisher and the cache writers put from threads
    with mock_aws():
        reset_clients()
        reset_settings()
        client = boto3.client("dynamodb")  # the environment's region
        for name, props in load(ROOT / "template.yaml").tables.items():
            client.create_table(**table_spec(name, props))
        yield
        reset_clients()
