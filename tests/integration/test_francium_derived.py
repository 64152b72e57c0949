"""Derived writes (a transfer's system message) are re-derivable from PostgreSQL: ``verify`` reports
the missing ones and ``rebuild`` re-drives the trigger with exactly those, once each."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any

import boto3
import psycopg

from fluorine import bus, db
from fluorine.commands.rhenium import send_system_message
from fluorine.uow import UnitOfWork
from francium import maintenance
from infra.local.services import table_spec
from infra.local.template import load
from shared.aws import reset_clients
from shared.context import Caller
from shared.contracts.rhenium import SendSystemMessage, transfer_message_id
from tests.integration.nickel_support import issue, new_asset, pay, redeem
from tests.integration.social_support import deactivate, inbox_ids, person, read
from tests.support.streams import StreamDriver

ROOT = Path(__file__).resolve().parents[2]


def funded(stack: StreamDriver, amount: int = 1_000) -> tuple[Caller, Caller]:
    """An admin with an asset, and a holder it issued ``amount`` to (the feed given to the projector only)."""
    admin, holder = person(stack, frozenset({"admin"})), person(stack)
    new_asset(stack, admin, "USD")
    assert issue(stack, admin, holder, amount).status == 201
    return admin, holder


def system_messages(url: str) -> list[tuple[Any, Any]]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT id, to_entity FROM messages WHERE sender_id IS NULL ORDER BY id").fetchall()


def test_a_transfer_whose_record_the_trigger_never_saw_is_reported_and_rebuild_sends_its_message_once(
    stack: StreamDriver, postgres: str
) -> None:
    # Given an issue and a payment the projector saw but the trigger never did (a lost record)
    _, holder = funded(stack)
    payee = person(stack)
    paid = pay(stack, holder, payee, 120, memo="rent")
    assert paid.status == 201

    # When verified
    found = maintenance.verify()

    # Then each missing system message is reported, named by its derived id and its transfer
    assert found["by_kind"] == {"derived_missing": 2}
    reported = {d["pk"]: d["source"] for d in found["drift"]}
    assert reported[f"message#{transfer_message_id(paid.body['id'])}"] == f"transfer#{paid.body['id']}"

    # And a rebuild re-derives both, reads show them, and a second rebuild changes nothing
    rebuilt = maintenance.rebuild()
    assert (rebuilt["rederived"], rebuilt["rederive_failed"]) == (2, [])
    assert maintenance.verify()["count"] == 0
    inbox = read("/v1/messages/inbox", payee).body["items"]
    assert [(m["from"], m["id"]) for m in inbox] == [(None, str(transfer_message_id(paid.body["id"])))]
    assert "rent" in inbox[0]["body"]
    assert maintenance.rebuild()["rederived"] == 0
    assert len(system_messages(postgres)) == 2


def test_no_message_is_expected_for_the_issuer_side_or_a_recipient_deactivated_since(
    stack: StreamDriver, postgres: str
) -> None:
    # Given a redemption (to the issuer side) and a payment to someone deactivated since
    _, holder = funded(stack)
    payee = person(stack)
    assert redeem(stack, holder, 10).status == 201
    assert pay(stack, holder, payee, 5).status == 201
    deactivate(stack, payee)

    # When verified and rebuilt
    found = maintenance.verify()
    rebuilt = maintenance.rebuild()

    # Then only the holder's issue lacks its message: the trigger would send no other
    assert found["by_kind"] == {"derived_missing": 1}
    assert found["derived_events_checked"] == 3
    assert rebuilt["rederived"] == 1
    assert [to for _, to in system_messages(postgres)] == [holder.entity_id]
    assert maintenance.verify()["count"] == 0


def test_a_rebuild_of_one_transfer_re_derives_its_message_and_brings_it_into_the_read_cache(
    stack: StreamDriver,
) -> None:
    # Given two payments the trigger never saw
    _, holder = funded(stack)
    first, second = person(stack), person(stack)
    one = pay(stack, holder, first, 1).body["id"]
    pay(stack, holder, second, 2)

    # When only the first transfer's aggregate is rebuilt
    rebuilt = maintenance.rebuild(f"transfer#{one}")

    # Then its message is written and readable (no projector ran), and the other is still missing
    assert rebuilt["rederived"] == 1
    assert inbox_ids(first) == [str(transfer_message_id(one))]
    assert inbox_ids(second) == []
    assert maintenance.verify()["by_kind"] == {"derived_missing": 2}  # the holder's issue, the second payment


def recreate_dynamodb() -> None:
    """A total loss of the DynamoDB side: the read cache and the change feed (with its stream) recreated empty."""
    client = boto3.client("dynamodb")
    for name, props in load(ROOT / "template.yaml").tables.items():
        client.delete_table(TableName=name)
        client.create_table(**table_spec(name, props))
    reset_clients()


def test_after_a_total_loss_of_the_dynamodb_side_rebuild_restores_every_view_and_every_derived_write(
    stack: StreamDriver, postgres: str
) -> None:
    # Given a settled system (both consumers saw everything), then payments whose records only the
    # projector saw, then the whole DynamoDB side lost
    _, holder = funded(stack)
    payees = [person(stack) for _ in range(3)]
    stack.settle()
    for n, payee in enumerate(payees, start=1):
        assert pay(stack, holder, payee, n).status == 201
    wallet_before = read("/v1/wallets/me", holder).body
    recreate_dynamodb()
    assert read("/v1/wallets/me", holder).body != wallet_before

    # When verified, then rebuilt
    found = maintenance.verify()
    rebuilt = maintenance.rebuild()

    # Then every item was missing, the three payments' messages too; after the rebuild nothing is
    assert set(found["by_kind"]) == {"missing", "derived_missing"}
    assert found["by_kind"]["derived_missing"] == 3
    assert rebuilt["rederived"] == 3
    assert maintenance.verify()["count"] == 0
    assert read("/v1/wallets/me", holder).body == wallet_before
    for payee in payees:
        assert len(inbox_ids(payee)) == 1
    assert len(inbox_ids(holder)) == 1  # the issue's message, written before the loss, restored from the truth


def test_two_writers_of_one_derived_message_write_it_once(stack: StreamDriver, postgres: str) -> None:
    # Given a recipient, and a first writer that inserted the derived message but has not committed
    recipient = person(stack)
    command = SendSystemMessage(id=uuid.uuid4(), to_entity=recipient.entity_id, body="You received 1 USD.")
    first = psycopg.connect(postgres)
    uow = UnitOfWork(first).__enter__()
    send_system_message(command, uow)
    answers: list[dict[str, Any]] = []

    # When a second writer (the live trigger racing a rebuild) sends the same message meanwhile
    racer = threading.Thread(target=lambda: answers.append(bus.execute(command.model_dump(mode="json")).result))
    racer.start()
    racer.join(timeout=0.5)
    assert racer.is_alive()  # it waits on the first writer's row
    uow.__exit__(None, None, None)
    first.close()
    racer.join(timeout=30)

    # Then it answers the committed message, and one MessageSent was emitted in all
    assert answers[0]["id"] == str(command.id)
    with psycopg.connect(postgres) as conn:
        events = conn.execute("SELECT count(*) FROM outbox WHERE aggregate = %s", (f"message#{command.id}",))
        assert events.fetchone() == (1,)
    db.close()
