"""Opaque tokens: write versions (X-Write-Version) and list cursors."""

from __future__ import annotations

import base64
import uuid

import pytest

from shared import write_versions
from shared.contracts.changes import AggregateVersion
from shared.errors import InvalidRequest
from shared.pagination import decode_cursor, encode_cursor
from shared.write_versions import InvalidWriteVersion

ALICE, MALLORY = uuid.uuid4(), uuid.uuid4()
VERSIONS = [
    AggregateVersion(aggregate="entity#0b6f3c1e-0000-4000-8000-000000000001", version=3),
    AggregateVersion(aggregate="wallet#0b6f3c1e-0000-4000-8000-000000000002:COIN", version=17),
]


def test_a_write_version_round_trips_every_aggregate_for_its_caller() -> None:
    assert write_versions.verify(write_versions.issue(VERSIONS, ALICE), ALICE) == VERSIONS


def test_a_write_version_issued_to_one_caller_is_refused_to_another() -> None:
    token = write_versions.issue(VERSIONS, ALICE)
    with pytest.raises(InvalidWriteVersion):
        write_versions.verify(token, MALLORY)


def test_a_write_version_rewritten_to_name_another_aggregate_or_caller_fails_its_mac() -> None:
    token = write_versions.issue(VERSIONS, MALLORY)
    prefix, _, mac = token.split(".")
    forged_payload = f"{ALICE}|wallet#{ALICE}:COIN=1".encode()
    forged = f"{prefix}.{base64.urlsafe_b64encode(forged_payload).decode().rstrip('=')}.{mac}"
    with pytest.raises(InvalidWriteVersion):
        write_versions.verify(forged, ALICE)


@pytest.mark.parametrize(
    "token", ["", "garbage!", "Zm9v", "ZW50aXR5I3g9YQ", "v1.Zm9v", "v1.Zm9v.%%%", "v1..", "x" * 9000]
)
def test_anything_else_is_not_a_write_version(token: str) -> None:
    with pytest.raises(InvalidWriteVersion):
        write_versions.verify(token, ALICE)


def test_a_cursor_round_trips_its_position() -> None:
    position = {"pk": "wallet#1", "sk": "t#2026-01-01T00:00:00Z#abc"}
    assert decode_cursor(encode_cursor(position)) == position
    assert encode_cursor(None) is None
    assert decode_cursor(None) is None


@pytest.mark.parametrize("cursor", ["%%%", "bm90IGpzb24", "WzEsMl0"])
def test_a_forged_cursor_is_invalid_request(cursor: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        decode_cursor(cursor)
    assert refused.value.errors == [{"loc": ["query", "cursor"], "msg": "Invalid cursor", "type": "value_error"}]


def test_a_page_cut_short_by_dynamodbs_1_mb_still_says_more_follows(monkeypatch: pytest.MonkeyPatch) -> None:
    from francium import cache

    items = [
        {"pk": {"S": f"member#{n}"}, "sk": {"S": "state"}, "ver": {"N": "1"}, "data": {"S": "{}"}} for n in range(3)
    ]
    for item in items:
        item |= {"gsi2pk": {"S": "groups_of#x"}, "gsi2sk": {"S": item["pk"]["S"]}}

    class OneMegabyte:
        """Answers three items of a page of ten, and where it stopped (as DynamoDB does at 1 MB)."""

        def query(self, **request: object) -> dict[str, object]:
            return {"Items": items, "LastEvaluatedKey": {"pk": items[-1]["pk"]}}

    monkeypatch.setattr(cache, "dynamodb", OneMegabyte)
    page, cursor = cache.query_page("groups_of#x", index="gsi2", limit=10)
    assert len(page) == 3
    assert decode_cursor(cursor) == {"pk": "member#2", "sk": "state", "gsi2pk": "groups_of#x", "gsi2sk": "member#2"}
