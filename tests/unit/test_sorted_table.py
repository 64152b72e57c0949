"""The benchmarks' DynamoDB stand-in pages a query at 1 MB read, as DynamoDB does."""

from __future__ import annotations

from typing import Any

from bench.sorted_table import PAGE_BYTES, SortedTable, item_size


def item(n: int, body: str) -> dict[str, Any]:
    return {
        "pk": {"S": f"m#{n:05d}"},
        "sk": {"S": "state"},
        "ver": {"N": "1"},
        "data": {"S": body},
        "gsi1pk": {"S": "inbox#a"},
        "gsi1sk": {"S": f"{n:05d}"},
    }


def test_a_count_over_more_than_a_megabyte_takes_a_page_per_megabyte_and_counts_every_item() -> None:
    table = SortedTable()
    body = "x" * 10_000
    for n in range(250):  # ~2.5 MB
        table.put_item(TableName="t", Item=item(n, body))
    request: dict[str, Any] = {
        "TableName": "t",
        "IndexName": "gsi1",
        "KeyConditionExpression": "gsi1pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": "inbox#a"}},
        "Select": "COUNT",
    }
    counts, pages = [], 0
    while True:
        answer = table.query(**request)
        pages += 1
        counts.append(answer["Count"])
        assert sum(item_size(i) for i in answer["Items"]) <= PAGE_BYTES
        if "LastEvaluatedKey" not in answer:
            break
        request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
    assert pages == 3 == table.requests
    assert sum(counts) == 250


def test_a_small_query_is_one_page() -> None:
    table = SortedTable()
    for n in range(10):
        table.put_item(TableName="t", Item=item(n, "hi"))
    answer = table.query(
        TableName="t",
        IndexName="gsi1",
        KeyConditionExpression="gsi1pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "inbox#a"}},
    )
    assert answer["Count"] == 10
    assert "LastEvaluatedKey" not in answer


def test_a_query_without_an_index_reads_the_table_s_own_key_newest_first() -> None:
    table = SortedTable()
    for version in (3, 1, 2):
        table.put_item(TableName="t", Item={"pk": {"S": "unread#a"}, "sk": {"S": f"v#{version}"}, "ver": {"N": "1"}})
    table.put_item(TableName="t", Item={"pk": {"S": "unread#b"}, "sk": {"S": "v#9"}, "ver": {"N": "1"}})
    answer = table.query(
        TableName="t",
        KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues={":pk": {"S": "unread#a"}, ":prefix": {"S": "v#"}},
        ScanIndexForward=False,
        Limit=2,
    )
    assert [i["sk"]["S"] for i in answer["Items"]] == ["v#3", "v#2"]
