"""Spine mechanisms on real PostgreSQL and moto: migrations, idempotency, read-your-writes, internal calls."""

from __future__ import annotations

import threading
import uuid
from typing import Literal

import psycopg
import pytest
from pydantic import BaseModel

from fluorine import bus
from fluorine.authority import Authority
from fluorine.bus import command_handler
from fluorine.migrations import migrate
from fluorine.uow import UnitOfWork
from francium.freshness import wait_for
from shared import internal
from shared.contracts.changes import Idempotency
from shared.contracts.oxygen import EntityState
from shared.errors import Conflict, InvalidRequest, NotReady
from shared.settings import reset_settings
from tests.support.factories import register_command, register_entity
from tests.support.streams import StreamDriver


class CountVisit(BaseModel):
    """A tiny command for these tests: counts visits of a name, idempotently."""

    command: Literal["test_count_visit"] = "test_count_visit"
    name: str
    idempotency: Idempotency | None = None


class VisitCount(BaseModel):
    name: str
    visits: int


@command_handler(CountVisit, authority=Authority.PUBLIC)
def count_visit(cmd: CountVisit, uow: UnitOfWork) -> VisitCount:
    uow.execute("CREATE TABLE IF NOT EXISTS test_visits (name text PRIMARY KEY, visits int NOT NULL)")
    row = uow.execute(
        "INSERT INTO test_visits VALUES (%s, 1) ON CONFLICT (name) DO UPDATE SET visits = test_visits.visits + 1"
        " RETURNING visits",
        (cmd.name,),
    ).fetchone()
    assert row is not None
    return VisitCount(name=cmd.name, visits=row[0])


def visit(name: str, key: str | None, fingerprint: str = "f1", caller: str | None = None) -> bus.Outcome:
    caller_id = caller or "00000000-0000-4000-8000-000000000001"
    idem = Idempotency(caller_id=caller_id, key=key, fingerprint=fingerprint) if key else None
    return bus.execute(CountVisit(name=name, idempotency=idem).model_dump(mode="json"))


def test_migrations_apply_once(postgres: str) -> None:
    assert migrate(postgres) == []
    with psycopg.connect(postgres) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]
    assert versions[:2] == ["0001", "0002"]
    assert versions == sorted(versions)


def test_a_repeated_idempotency_key_replays_the_first_answer_and_writes_nothing(postgres: str) -> None:
    first = visit("ada", "key-1")
    again = visit("ada", "key-1")
    assert again.result == first.result == {"name": "ada", "visits": 1}
    assert again.replayed
    assert visit("ada", None).result["visits"] == 2


def test_the_same_key_with_another_request_is_a_conflict(postgres: str) -> None:
    visit("ada", "key-2")
    with pytest.raises(Conflict):
        visit("ada", "key-2", fingerprint="another body")


def test_keys_belong_to_their_caller(postgres: str) -> None:
    visit("ada", "shared-key", caller="00000000-0000-4000-8000-00000000000a")
    other = visit("ada", "shared-key", caller="00000000-0000-4000-8000-00000000000b")
    assert other.result["visits"] == 2


def test_concurrent_duplicates_apply_once(postgres: str) -> None:
    from fluorine import db

    results: list[int] = []

    def worker() -> None:
        results.append(visit("bob", "race-key").result["visits"])
        db.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [1] * 8


def test_read_your_writes_waits_for_the_projection_then_gives_up_with_503(
    stack: StreamDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIN_VERSION_WAIT_SECONDS", "0.05")
    reset_settings()
    state, outcome = register_entity()
    token = outcome.write_version or ""
    # Not published yet: the read side cannot reach it in time
    with pytest.raises(NotReady):
        wait_for(token, state.id)
    from fluorine.db import connection
    from fluorine.publisher import publish

    publish(connection(), outcome.records)
    stack.drain()
    wait_for(token, state.id)


@pytest.mark.parametrize("forged", ["not-a-token", "v1.Zm9v.YmFy"])
def test_a_forged_min_version_is_invalid_request_without_a_read(aws: None, forged: str) -> None:
    with pytest.raises(InvalidRequest):
        wait_for(forged, uuid.uuid4())


def test_a_genuine_min_version_of_another_caller_is_invalid_request_without_a_read(stack: StreamDriver) -> None:
    # Given a write version token issued to one entity
    _, outcome = register_entity()
    # When another caller presents it, Then it is refused at once
    with pytest.raises(InvalidRequest):
        wait_for(outcome.write_version or "", uuid.uuid4())


def test_internal_calls_carry_typed_results_and_re_raise_refusals(stack: StreamDriver) -> None:
    command = register_command(handle=f"internal_{uuid.uuid4().hex[:8]}")
    done = internal.call("fluorine", command, EntityState)
    assert isinstance(done.result, EntityState)
    assert done.write_version
    with pytest.raises(Conflict):
        internal.call("fluorine", register_command(handle=command.handle), EntityState)
    assert len(stack.records()) == 1


def test_the_migration_custom_resource_migrates_and_answers_cloudformation(
    postgres: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fluorine import migrations

    answers: list[tuple[str, dict[str, str]]] = []
    monkeypatch.setattr(
        migrations, "respond_to_cloudformation", lambda event, status, reason, data: answers.append((status, data))
    )
    event = {
        "RequestType": "Update",
        "ResponseURL": "https://example.invalid/response",
        "StackId": "stack",
        "RequestId": "request",
        "LogicalResourceId": "Migrations",
    }
    assert migrations.handler(event, None) == {"applied": []}
    assert answers == [("SUCCESS", {"Applied": "none"})]
    migrations.handler({**event, "RequestType": "Delete"}, None)
    assert answers[-1][0] == "SUCCESS"
