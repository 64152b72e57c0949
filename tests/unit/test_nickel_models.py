"""Nickel's request models and contracts, without I/O."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from nickel.models import CreateAssetBody, IssueBody, TransferBody
from shared.contracts.nickel import DistributeAsset, TransferOut, TransferState

MAX = 9_223_372_036_854_775_807


@pytest.mark.parametrize("amount", ["10", 1.5, 1.0, 0, -3, MAX + 1, True, None])
def test_amounts_that_are_not_json_integers_in_range_are_refused(amount: object) -> None:
    with pytest.raises(ValidationError):
        TransferBody.model_validate({"to": str(uuid.uuid4()), "asset": "USD", "amount": amount})


def test_the_largest_amount_and_a_280_character_memo_are_accepted() -> None:
    body = TransferBody.model_validate({"to": str(uuid.uuid4()), "asset": "USD", "amount": MAX, "memo": "m" * 280})
    assert (body.amount, len(body.memo or "")) == (MAX, 280)
    with pytest.raises(ValidationError):
        TransferBody.model_validate({"to": str(uuid.uuid4()), "asset": "USD", "amount": 1, "memo": "m" * 281})


@pytest.mark.parametrize(
    "fields",
    [
        {"code": "usd", "name": "x", "scale": 2},
        {"code": "_USD", "name": "x", "scale": 2},
        {"code": "U" * 33, "name": "x", "scale": 2},
        {"code": "USD", "name": " ", "scale": 2},
        {"code": "USD", "name": "x", "scale": 19},
        {"code": "USD", "name": "x", "scale": "2"},
    ],
)
def test_invalid_assets_are_refused(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        CreateAssetBody.model_validate(fields)


def test_an_issue_body_refuses_unknown_fields() -> None:
    with pytest.raises(ValidationError):
        IssueBody.model_validate({"to": str(uuid.uuid4()), "amount": 1, "from": str(uuid.uuid4())})


def test_a_transfer_state_serializes_from_by_its_contract_name_and_round_trips() -> None:
    state = TransferState.model_validate(
        {
            "id": uuid.uuid4(),
            "from": None,
            "to": uuid.uuid4(),
            "asset": "USD",
            "amount": MAX,
            "kind": "issue",
            "created_at": datetime.now(UTC),
        }
    )
    dumped = state.model_dump(mode="json")
    assert dumped["from"] is None
    assert "from_" not in dumped
    assert TransferState.model_validate(dumped) == state
    assert set(TransferOut.of(state).model_dump(mode="json")) == {
        "id",
        "from",
        "to",
        "asset",
        "amount",
        "memo",
        "kind",
        "created_at",
    }


def test_a_distribution_needs_a_positive_amount_each() -> None:
    with pytest.raises(ValidationError):
        DistributeAsset(from_entity=uuid.uuid4(), asset="USD", amount_each=0, recipients=[])
