"""Seeding shared by the Carbon and Rhenium benchmarks: many entities at once, a read cache."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from bench.sorted_table import SortedTable
from tests.support.factories import PASSWORD_HASH


def seed_entities(database_url: str, count: int) -> list[uuid.UUID]:
    """``count`` active entities inserted in one COPY (setup, not measured; nothing is published)."""
    ids = [uuid.uuid4() for _ in range(count)]
    copy_sql = "COPY entities (id, kind, handle, display_name, password_hash) FROM STDIN"
    with psycopg.connect(database_url) as conn, conn.cursor() as cur, cur.copy(copy_sql) as copy:
        for entity_id in ids:
            copy.write_row((entity_id, "real", f"b_{entity_id.hex[:24]}", "Bench", PASSWORD_HASH))
    return ids


@contextmanager
def read_cache(latency: float = 0.0) -> Iterator[SortedTable]:
    """The read side's DynamoDB client replaced (for this thread) by the sorted stand-in."""
    from shared import aws

    table = SortedTable(latency)
    aws._local.dynamodb = table  # the per-thread client slot shared.aws reads
    try:
        yield table
    finally:
        aws.reset_clients()


def project(records: list) -> None:  # type: ignore[type-arg]
    from francium import projector

    for record in records:
        projector.apply(record)


@contextmanager
def projected_at_publish() -> Iterator[None]:
    """A read side without stream lag: Fluorine's publish step also applies the records' projections
    (what the stream delivers a moment later). A login waits for its new session's projection, so
    this measures the login's own work; the stream's lag is bench_pipeline's figure."""
    from fluorine import app

    original = app.publish

    def publish_and_project(conn: psycopg.Connection, records: list, **options: Any) -> bool:  # type: ignore[type-arg]
        published = original(conn, records, **options)
        project(records)
        return published

    app.publish = publish_and_project  # type: ignore[assignment]
    try:
        yield
    finally:
        app.publish = original  # type: ignore[assignment]
