"""Group broadcasts and the inbox's membership windows, stable cursors, and system messages."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime

import psycopg

from francium import projector
from shared.contracts.changes import ChangeRecord
from shared.contracts.rhenium import MessageState, message_aggregate
from tests.integration.social_support import add, carbon, inbox_ids, new_group, person, read
from tests.support.events import FakeContext
from tests.support.streams import StreamDriver


def broadcast(stack: StreamDriver, group_id: str, who, body: str = "news"):  # type: ignore[no-untyped-def]
    return carbon(stack, "POST", f"/v1/groups/{group_id}/broadcast", who, body={"body": body})


def test_owners_and_admins_broadcast_to_every_member_members_may_not(stack: StreamDriver) -> None:
    owner, admin, member, outsider = (person(stack) for _ in range(4))
    group = new_group(stack, owner, "private")
    add(stack, group["id"], owner, admin, "admin")
    add(stack, group["id"], owner, member)
    sent = broadcast(stack, group["id"], admin, "meet at six")
    assert sent.status == 202
    assert (sent.body["to"], sent.body["from"]) == ({"group_id": group["id"]}, str(admin.entity_id))
    for who in (owner, admin, member):
        assert inbox_ids(who) == [sent.body["id"]]
    assert inbox_ids(outsider) == []
    assert read(f"/v1/messages/{sent.body['id']}", outsider).status == 404
    assert broadcast(stack, group["id"], member).status == 403
    assert broadcast(stack, group["id"], outsider).status == 404
    assert carbon(stack, "POST", f"/v1/groups/{group['id']}/broadcast", owner, body={"body": ""}).status == 400


def test_a_member_sees_only_broadcasts_sent_while_a_member(stack: StreamDriver) -> None:
    owner, late = person(stack), person(stack)
    group = new_group(stack, owner)
    before = broadcast(stack, group["id"], owner, "before joining").body["id"]
    assert carbon(stack, "POST", f"/v1/groups/{group['id']}/join", late).status == 201
    during = broadcast(stack, group["id"], owner, "while a member").body["id"]
    assert inbox_ids(late) == [during]
    assert read(f"/v1/messages/{before}", late).status == 404
    # When the member leaves, later broadcasts stay hidden and the earlier one stays
    assert carbon(stack, "DELETE", f"/v1/groups/{group['id']}/members/{late.entity_id}", late).status == 204
    after = broadcast(stack, group["id"], owner, "after leaving").body["id"]
    assert inbox_ids(late) == [during]
    assert read(f"/v1/messages/{after}", late).status == 404
    assert read(f"/v1/messages/{during}", late).status == 200
    assert inbox_ids(owner) == [after, during, before]


def test_a_deleted_groups_broadcasts_leave_the_inbox(stack: StreamDriver) -> None:
    owner, member = person(stack), person(stack)
    group = new_group(stack, owner)
    add(stack, group["id"], owner, member)
    message = broadcast(stack, group["id"], owner).body["id"]
    assert inbox_ids(member) == [message]
    assert carbon(stack, "DELETE", f"/v1/groups/{group['id']}", owner).status == 204
    assert inbox_ids(member) == []
    assert read(f"/v1/messages/{message}", member).status == 404


def test_inbox_cursors_are_stable_when_messages_share_a_timestamp(stack: StreamDriver) -> None:
    bob = person(stack)
    moment = datetime(2030, 1, 1, tzinfo=UTC)
    ids = sorted(uuid.uuid4() for _ in range(5))
    for seq, message_id in enumerate(ids, start=1):
        state = MessageState(id=message_id, to_entity=bob.entity_id, body="same time", sent_at=moment)
        record = ChangeRecord(
            aggregate=message_aggregate(message_id),
            version=1,
            event_type="MessageSent",
            payload=state.model_dump(mode="json"),
            seq=seq,
            occurred_at=moment,
        )
        projector.apply(record)
    pages = []
    cursor = None
    while True:
        page = read("/v1/messages/inbox", bob, query={"limit": "2", **({"cursor": cursor} if cursor else {})}).body
        pages.append([m["id"] for m in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [i for p in pages for i in p] == [str(i) for i in reversed(ids)]
    assert [len(p) for p in pages] == [2, 2, 1]


def transfer_record(transfer_id: uuid.UUID, to: uuid.UUID | None, sender: uuid.UUID | None) -> dict:
    """A Lambda-shaped stream record of Nickel's ``TransferPosted`` event (its TransferState payload)."""
    import json

    payload = {
        "id": str(transfer_id),
        "from": str(sender) if sender else None,
        "to": str(to) if to else None,
        "asset": "GOLD",
        "amount": 250,
        "memo": "rent",
        "kind": "transfer",
        "created_at": "2030-01-01T00:00:00Z",
    }
    image = {
        "aggregate": {"S": f"transfer#{transfer_id}"},
        "version": {"N": "1"},
        "event_type": {"S": "TransferPosted"},
        "payload": {"S": json.dumps(payload)},
        "seq": {"N": "1"},
        "occurred_at": {"S": "2030-01-01T00:00:00+00:00"},
    }
    return {
        "eventID": uuid.uuid4().hex,
        "eventName": "INSERT",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "Keys": {},
            "NewImage": image,
            "SequenceNumber": str(uuid.uuid4().int)[:20],
            "StreamViewType": "NEW_IMAGE",
        },
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:000000000000:table/ChangeFeedTable/stream/x",
    }


def trigger(records: list[dict]) -> dict:
    from rhenium.trigger import handler

    return handler({"Records": records}, FakeContext())  # type: ignore[no-any-return]


def test_a_transfer_sends_its_recipient_one_system_message_even_when_redelivered(
    stack: StreamDriver, postgres: str
) -> None:
    payer, payee = person(stack), person(stack)
    record = transfer_record(uuid.uuid4(), payee.entity_id, payer.entity_id)
    assert trigger([record]) == {"batchItemFailures": []}
    # When the stream delivers the same record again (a retried batch)
    assert trigger([copy.deepcopy(record)]) == {"batchItemFailures": []}
    stack.drain()
    inbox = read("/v1/messages/inbox", payee).body["items"]
    assert len(inbox) == 1
    assert inbox[0]["from"] is None
    assert inbox[0]["to"] == {"entity_id": str(payee.entity_id)}
    assert "250 GOLD" in inbox[0]["body"]
    assert "rent" in inbox[0]["body"]
    with psycopg.connect(postgres) as conn:
        assert conn.execute("SELECT count(*) FROM messages").fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM outbox WHERE aggregate LIKE 'message#%'").fetchone() == (1,)
    assert inbox_ids(payer) == []


def test_the_trigger_ignores_other_events_and_issuer_side_recipients(stack: StreamDriver, postgres: str) -> None:
    payer = person(stack)
    redeem = transfer_record(uuid.uuid4(), None, payer.entity_id)
    other = transfer_record(uuid.uuid4(), payer.entity_id, None)
    other["dynamodb"]["NewImage"]["event_type"] = {"S": "EntityRegistered"}
    other["dynamodb"]["NewImage"]["aggregate"] = {"S": f"entity#{payer.entity_id}"}
    assert trigger([redeem, other]) == {"batchItemFailures": []}
    with psycopg.connect(postgres) as conn:
        assert conn.execute("SELECT count(*) FROM messages").fetchone() == (0,)


def test_a_malformed_transfer_record_is_reported_and_the_rest_of_the_batch_goes_through(stack: StreamDriver) -> None:
    payee = person(stack)
    good = transfer_record(uuid.uuid4(), payee.entity_id, None)
    bad = transfer_record(uuid.uuid4(), payee.entity_id, None)
    bad["dynamodb"]["NewImage"]["payload"] = {"S": '{"id": 5}'}
    answer = trigger([bad, good])
    assert answer == {"batchItemFailures": [{"itemIdentifier": bad["dynamodb"]["SequenceNumber"]}]}
    stack.drain()
    assert len(inbox_ids(payee)) == 1
