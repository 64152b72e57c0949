"""Fluorine's database connection dies between commands (RDS Proxy drops idle clients; failovers,
restarts): the next command still succeeds, once. Lost during COMMIT, it is an error, never a retry."""

from __future__ import annotations

import uuid
from typing import Any, Literal

import psycopg
import pytest
from pydantic import BaseModel

from fluorine import app, db, sweeper
from fluorine.authority import Authority
from fluorine.bus import command_handler
from fluorine.uow import UnitOfWork
from shared.contracts.changes import Idempotency
from shared.contracts.nickel import CreateAsset, IssueAsset, PostTransfer
from tests.support.factories import act, register_command, register_entity
from tests.support.streams import StreamDriver

RUNS: list[str] = []  # every run of RecordCall's handler, by name
DIE_BEFORE_COMMIT: set[str] = set()  # names whose next run loses its connection after its last statement
DATABASE: dict[str, str] = {}


class RecordCall(BaseModel):
    """A command for these tests: inserts one row per run, so a second run would show."""

    command: Literal["test_record_call"] = "test_record_call"
    name: str
    idempotency: Idempotency | None = None


class Recorded(BaseModel):
    name: str


def terminate(pid: int) -> None:
    """What RDS Proxy does to an idle client, or a failover to everyone: the server side goes away."""
    with psycopg.connect(DATABASE["url"], autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


@command_handler(RecordCall, authority=Authority.PUBLIC)
def record_call(cmd: RecordCall, uow: UnitOfWork) -> Recorded:
    RUNS.append(cmd.name)
    uow.execute("CREATE TABLE IF NOT EXISTS test_calls (name text NOT NULL)")
    uow.execute("INSERT INTO test_calls VALUES (%s)", (cmd.name,))
    if cmd.name in DIE_BEFORE_COMMIT:
        DIE_BEFORE_COMMIT.discard(cmd.name)
        terminate(uow.conn.info.backend_pid)
    return Recorded(name=cmd.name)


@pytest.fixture
def fluorine(stack: StreamDriver, postgres: str) -> str:
    RUNS.clear()
    DIE_BEFORE_COMMIT.clear()
    DATABASE["url"] = postgres
    return postgres


def invoke(command: BaseModel) -> dict[str, Any]:
    """Fluorine's Lambda entry point, as an element's internal call reaches it."""
    return app.handler({"command": command.model_dump(mode="json")}, None)


def rows(url: str, name: str) -> int:
    with psycopg.connect(url) as conn:
        exists = conn.execute("SELECT to_regclass('test_calls') IS NOT NULL").fetchone()
        if not exists or not exists[0]:
            return 0
        row = conn.execute("SELECT count(*) FROM test_calls WHERE name = %s", (name,)).fetchone()
        return int(row[0]) if row else 0


def test_a_command_after_the_connection_was_dropped_succeeds_once(fluorine: str) -> None:
    # Given a warm Fluorine whose connection the server dropped since its last command
    assert invoke(RecordCall(name="warm"))["ok"]
    dropped = db.connection().info.backend_pid
    terminate(dropped)
    # When the next command arrives
    answer = invoke(RecordCall(name="after-drop"))
    # Then it succeeds on a new connection, and ran (and wrote) exactly once
    assert answer["ok"], answer
    assert db.connection().info.backend_pid != dropped
    assert RUNS == ["warm", "after-drop"]
    assert rows(fluorine, "after-drop") == 1


def test_a_real_write_after_the_connection_was_dropped_is_answered_and_published_once(
    fluorine: str, stack: StreamDriver
) -> None:
    # Given a dropped connection
    assert invoke(register_command())["ok"]
    terminate(db.connection().info.backend_pid)
    # When an entity registers
    answer = invoke(register_command())
    # Then the client gets its entity (no 500) and the change feed gets it once
    assert answer["ok"], answer
    assert [r["dynamodb"]["Keys"]["aggregate"]["S"] for r in stack.records()].count(
        f"entity#{answer['result']['id']}"
    ) == 1


def test_a_connection_lost_during_commit_is_an_error_and_is_not_run_again(fluorine: str) -> None:
    # Given a command whose connection dies after its last statement, before COMMIT is answered
    DIE_BEFORE_COMMIT.add("unlucky")
    # When Fluorine runs it
    answer = invoke(RecordCall(name="unlucky"))
    # Then the caller gets internal_error (whether it committed is unknown here), and it ran only once
    assert answer == {"ok": False, "error": {"code": "internal_error", "detail": answer["error"]["detail"]}}
    assert RUNS == ["unlucky"]


def test_after_a_lost_commit_the_client_repeats_its_idempotency_key_and_the_write_happens_once(
    fluorine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a keyed command whose first run loses its connection after its last statement (the key's
    # answer is stored), so while COMMIT is in flight
    from fluorine import idempotency

    remember = idempotency.remember

    def remember_then_die(uow: UnitOfWork, *args: Any) -> None:
        remember(uow, *args)
        monkeypatch.setattr(idempotency, "remember", remember)
        terminate(uow.conn.info.backend_pid)

    monkeypatch.setattr(idempotency, "remember", remember_then_die)
    key = Idempotency(caller_id="00000000-0000-4000-8000-000000000001", key="retry-me", fingerprint="f")
    first = invoke(RecordCall(name="keyed", idempotency=key))
    # When the client, told internal_error, sends the same request again
    answer = invoke(RecordCall(name="keyed", idempotency=key))
    # Then it succeeds, and the write exists once
    assert first["error"]["code"] == "internal_error"
    assert answer["ok"], answer
    assert rows(fluorine, "keyed") == 1


def test_a_keyed_transfer_whose_answer_is_lost_after_it_committed_is_run_again_and_replays_once(
    fluorine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a funded payer, and a transfer whose one autocommit statement commits but whose
    # connection dies before Fluorine reads the answer (the outcome is unknown to it)
    from fluorine.commands import nickel_ledger

    payer, payee = register_entity()[0].id, register_entity()[0].id
    act(CreateAsset(code="USD", name="Dollar", scale=2))
    act(IssueAsset(id=uuid.uuid4(), asset="USD", to=payer, amount=10))
    run_lean = nickel_ledger.run_lean

    def committed_then_lost(uow: UnitOfWork, *args: Any) -> dict[str, Any]:
        run_lean(uow, *args)
        monkeypatch.setattr(nickel_ledger, "run_lean", run_lean)
        terminate(uow.conn.info.backend_pid)
        uow.execute("SELECT 1")  # the lost answer: raises, and the connection is broken
        raise AssertionError("unreachable")

    monkeypatch.setattr(nickel_ledger, "run_lean", committed_then_lost)
    key = Idempotency(caller_id=str(payer), key="lost-answer", fingerprint="f")
    transfer = PostTransfer(id=uuid.uuid4(), from_entity=payer, to=payee, asset="USD", amount=3, idempotency=key)
    # When Fluorine runs it (on its own connection, which it replaces when broken), and the client
    # repeats it later with its key
    first = act(transfer)
    later = act(transfer)
    # Then the run again found the key and answered the committed transfer, posted once; a
    # repeat answers the same, write version included
    assert first.replayed
    assert later.replayed
    assert first.result["id"] == str(transfer.id)
    assert (later.result, later.write_version) == (first.result, first.write_version)
    with psycopg.connect(fluorine) as conn:
        posted = conn.execute("SELECT count(*) FROM transfers WHERE id = %s", (transfer.id,)).fetchone()
    assert posted == (1,)


def test_the_connection_prepares_no_statements_so_rds_proxy_can_share_it(fluorine: str) -> None:
    # Given many runs of the same command (psycopg would prepare a query after its fifth run)
    for n in range(8):
        assert invoke(RecordCall(name=f"run-{n}"))["ok"]
    # When the session's prepared statements are listed
    conn = db.connection()
    with conn.transaction():
        prepared = conn.execute("SELECT count(*) FROM pg_prepared_statements").fetchone()
    # Then there are none (a prepared statement pins the client to one database connection)
    assert prepared == (0,)


def test_the_sweeper_sweeps_on_a_new_connection_after_its_own_was_dropped(fluorine: str) -> None:
    # Given a committed but unpublished write, and a sweeper whose connection was dropped
    from tests.support.factories import register_entity

    register_entity()
    with db.connection().transaction():
        db.connection().execute("UPDATE outbox SET occurred_at = occurred_at - interval '1 minute'")
    terminate(db.connection().info.backend_pid)
    # When the schedule runs it
    result = sweeper.handler({}, None)
    # Then it publishes the row instead of failing
    assert result["published"] == 1
