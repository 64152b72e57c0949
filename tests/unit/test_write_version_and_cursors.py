"""Opaque tokens: write versions (X-Write-Version) and list cursors."""

from __future__ import annotations

import pytest

from shared.contracts.changes import AggregateVersion, decode_write_version, encode_write_version
from shared.errors import InvalidRequest
from shared.pagination import decode_cursor, encode_cursor


def test_a_write_version_round_trips_every_aggregate() -> None:
    versions = [
        AggregateVersion(aggregate="entity#0b6f3c1e-0000-4000-8000-000000000001", version=3),
        AggregateVersion(aggregate="wallet#0b6f3c1e-0000-4000-8000-000000000002", version=17),
    ]
    assert decode_write_version(encode_write_version(versions)) == versions


@pytest.mark.parametrize("token", ["", "garbage!", "Zm9v", "ZW50aXR5I3g9YQ", "x" * 9000])
def test_anything_else_is_not_a_write_version(token: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the only error it raises
        decode_write_version(token)


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
