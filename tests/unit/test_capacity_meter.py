"""The capacity meter bills DynamoDB requests as on-demand mode does (bench/capacity/meter.py)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from bench.capacity.meter import Meter, _Listener, family, item_size


def metered(operation: str, params: dict[str, Any], parsed: dict[str, Any]) -> Meter:
    """One DynamoDB call as botocore's after-call event reports it."""
    meter = Meter()
    _Listener(meter).after(None, parsed, SimpleNamespace(name=operation), context={"meter_params": params})
    return meter


def key(pk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": "state"}}


def table_t() -> None:
    """Table ``t`` (pk, sk) in moto's DynamoDB, in the test stage's region, as the functions'."""
    import boto3

    boto3.client("dynamodb").create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def test_an_item_is_sized_by_its_attribute_names_and_values() -> None:
    assert item_size({"pk": {"S": "inbox#1"}, "n": {"N": "12"}, "ok": {"BOOL": True}}) == 2 + 7 + 1 + 2 + 2 + 1


def test_a_partition_key_is_counted_by_its_family() -> None:
    assert family("inbox#5b0c") == "inbox"
    assert family("pbox") == "pbox"


def test_each_key_of_a_batch_get_is_billed_even_when_it_finds_no_item() -> None:
    # Given a BatchGetItem of three read flags, eventually consistent, of which one exists
    params = {"RequestItems": {"ReadCacheTable": {"Keys": [key("read#1"), key("read#2"), key("read#3")]}}}
    parsed = {"Responses": {"ReadCacheTable": [key("read#1")]}}
    # Then each key costs the smallest read, halved: 3 x 0.5 RRU; one item came back
    (request,) = metered("BatchGetItem", params, parsed).dynamo
    assert request.read_units == pytest.approx(1.5)
    assert request.items == 1
    assert request.families == ("read",)


def test_a_consistent_get_of_a_large_item_is_billed_per_4_kb() -> None:
    big = {**key("entity#1"), "data": {"S": "x" * 9000}}
    params = {"TableName": "ReadCacheTable", "Key": key("entity#1"), "ConsistentRead": True}
    (request,) = metered("GetItem", params, {"Item": big}).dynamo
    assert request.read_units == 3  # 9 KB and the names: three 4 KB units, not halved


def test_a_query_is_billed_on_the_sum_of_its_items_sizes() -> None:
    items = [{**key(f"pbox#{n}"), "body": {"S": "y" * 1000}} for n in range(5)]
    params = {"TableName": "ReadCacheTable", "IndexName": "gsi1", "ExpressionAttributeValues": {":pk": {"S": "pbox"}}}
    params["KeyConditionExpression"] = "gsi1pk = :pk"
    (request,) = metered("Query", params, {"Items": items}).dynamo
    assert request.read_units == 1.0  # ~5 KB together: two 4 KB units, halved
    assert request.families == ("pbox",)
    assert request.items == 5


def test_a_put_is_billed_per_1_kb_written() -> None:
    params = {"TableName": "ChangeFeedTable", "Item": {**key("wallet#1"), "body": {"S": "z" * 1500}}}
    (request,) = metered("PutItem", params, {}).dynamo
    assert request.write_units == 2


def test_the_calls_of_the_functions_own_clients_are_metered() -> None:
    # Given moto's DynamoDB holding a table, and the meter on
    from moto import mock_aws

    from bench.capacity.meter import metering
    from shared.aws import dynamodb

    with mock_aws():
        table_t()
        with metering() as meter:
            # When a function reads through its own client (shared.aws's botocore session, not boto3's)
            dynamodb().get_item(TableName="t", Key=key("entity#1"))
    # Then the read is counted
    assert [(r.operation, r.table) for r in meter.dynamo] == [("GetItem", "t")]


def test_the_meter_counts_the_calls_of_a_client_a_kept_thread_made_before_it_started() -> None:
    # Given moto's DynamoDB holding a table, and a kept thread (as Rhenium's push pool) whose own
    # client was made before the meter started
    from concurrent.futures import ThreadPoolExecutor

    from moto import mock_aws

    from bench.capacity.meter import Meter, metered_into, metering
    from shared.aws import dynamodb

    key = {"pk": {"S": "entity#1"}, "sk": {"S": "state"}}
    with mock_aws(), ThreadPoolExecutor(max_workers=1) as pool:
        table_t()
        pool.submit(lambda: dynamodb().get_item(TableName="t", Key=key)).result()  # its client, made now
        with metering() as meter:
            # When the thread reads again through that client, and the meter's own thread reads too
            pool.submit(lambda: dynamodb().get_item(TableName="t", Key=key)).result()
            dynamodb().query(
                TableName="t", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": key["pk"]}
            )
            # And a thread bound to a meter of its own reads: its read goes there only
            own = Meter()

            def bound() -> None:
                with metered_into(own):
                    dynamodb().get_item(TableName="t", Key=key)

            pool.submit(bound).result()
    # Then every read is counted once, where it belongs
    assert [(r.operation, r.table) for r in meter.dynamo] == [("GetItem", "t"), ("Query", "t")]
    assert [r.operation for r in own.dynamo] == ["GetItem"]
