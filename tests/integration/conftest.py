"""Integration fixtures: real PostgreSQL (migrated once per session, emptied per test) and moto."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from fluorine import db
from shared.settings import reset_settings
from tests.support.aws import moto_tables
from tests.support.postgres import fresh_database, truncate_all
from tests.support.streams import StreamDriver

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    with fresh_database() as url:
        yield url


@pytest.fixture
def postgres(database_url: str) -> Iterator[str]:
    """The test database, empty, as this test's DATABASE_URL."""
    truncate_all(database_url)
    os.environ["DATABASE_URL"] = database_url
    reset_settings()
    db.close()
    yield database_url
    db.close()


@pytest.fixture
def aws() -> Iterator[None]:
    """moto's DynamoDB (with streams) holding the template's tables."""
    with moto_tables():
        yield


@pytest.fixture
def stack(postgres: str, aws: None) -> StreamDriver:
    """Write side and read side wired together; drive the change feed with the returned driver."""
    return StreamDriver()
