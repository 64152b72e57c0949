"""A running stack whose read cache is damaged behind its back: answers stay in the contract (no 500),
a valid login keeps working, and the damage is repaired from PostgreSQL without a restart."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.e2e.contract_support import assert_written, register, settled
from tests.e2e.test_safety import TABLE, read_cache, session_of
from tests.support.polling import wait_until

LOSS_IS_NOT_LAG_SECONDS = 6  # the authorizer takes an unknown holder for lag for 5 s after a login


def damage(stores: dict[str, str], aggregate: str, **attributes: dict[str, Any]) -> None:
    client = read_cache(stores)
    key = {"pk": {"S": aggregate}, "sk": {"S": "state"}}
    if not attributes:
        client.delete_item(TableName=TABLE, Key=key)
        return
    item = client.get_item(TableName=TABLE, Key=key, ConsistentRead=True)["Item"]
    client.put_item(TableName=TABLE, Item={**item, **attributes})


def test_garbled_and_lost_items_are_answered_in_the_contract_and_repaired_while_running(
    client: httpx.Client, stack_stores: dict[str, str]
) -> None:
    # Given two people who have talked, logged in some seconds ago
    alice, bob = register(client), register(client)
    sent = client.post("/v1/messages", json={"to_entity": bob.id, "body": "before the damage"}, headers=alice.headers)
    assert_written(sent, 201)
    settled(client, alice.headers, sent)
    time.sleep(LOSS_IS_NOT_LAG_SECONDS)
    # When the cache garbles Alice's entity, loses her session, and garbles the message and Bob's version
    damage(stack_stores, f"entity#{alice.id}", data={"S": "not json {"})
    damage(stack_stores, f"session#{session_of(alice)}")
    damage(stack_stores, f"message#{sent.json()['id']}", data={"S": '{"id": "not a message"}'})
    damage(stack_stores, f"entity#{bob.id}", ver={"S": "seven"})
    # Then Alice's valid login still works, decided on the truth (one repair, no 401)
    me = client.get("/v1/entities/me", headers=alice.headers)
    assert me.status_code == 200, me.text
    assert me.json()["id"] == alice.id
    # And every read is an answer of the contract: the data, or 503 not_ready with Retry-After, never a 500
    for path in (
        "/v1/messages/inbox",
        f"/v1/messages/{sent.json()['id']}",
        "/v1/entities/me",
        f"/v1/entities/{bob.id}",
    ):
        answer = client.get(path, headers=bob.headers)
        assert answer.status_code in (200, 503), (path, answer.text)
        if answer.status_code == 503:
            assert answer.json()["code"] == "not_ready"
            assert answer.headers["Retry-After"] == "1"
    graphql = client.post(
        "/v1/graphql", json={"query": "{ inbox(first: 5) { edges { node { body } } } }"}, headers=bob.headers
    )
    assert graphql.status_code == 200, graphql.text

    # And soon every read answers as before the damage, without a restart
    def inbox() -> httpx.Response:
        return client.get("/v1/messages/inbox", headers=bob.headers)

    repaired = wait_until(inbox, lambda a: a.status_code == 200, "the inbox repaired")
    assert [m["body"] for m in repaired.json()["items"]] == ["before the damage"]
    assert client.get(f"/v1/entities/{bob.id}", headers=alice.headers).status_code == 200


def test_a_read_cache_table_deleted_under_the_running_stack_is_recreated_and_refilled(
    client: httpx.Client, stack_stores: dict[str, str]
) -> None:
    # Given a message in Bob's inbox
    alice, bob = register(client), register(client)
    sent = client.post("/v1/messages", json={"to_entity": bob.id, "body": "kept in PostgreSQL"}, headers=alice.headers)
    assert_written(sent, 201)
    settled(client, alice.headers, sent)
    # When the read cache's table is deleted from the DynamoDB endpoint the stack uses
    read_cache(stack_stores).delete_table(TableName=TABLE)
    # Then reads meanwhile are answers of the contract (503 not_ready, or already the data), never a 500
    during = client.get("/v1/messages/inbox", headers=bob.headers)
    assert during.status_code in (200, 503), during.text

    # And the stack creates the table again and refills it from PostgreSQL, without a restart
    def inbox() -> httpx.Response:
        return client.get("/v1/messages/inbox", headers=bob.headers)

    back = wait_until(inbox, lambda a: a.status_code == 200 and a.json()["items"] != [], "the refilled inbox", 90)
    assert [m["body"] for m in back.json()["items"]] == ["kept in PostgreSQL"]
