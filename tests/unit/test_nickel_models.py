"""Nickel's request models and contracts, without I/O."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from nickel.models import CaptureBody, CreateAssetBody, HoldBody, IssueBody, ReverseBody, TransferBody
from shared.contracts.nickel import BalanceOut, BalanceState, DistributeAsset, TransferOut, TransferState
from shared.contracts.nickel_holds import HoldOut, HoldState

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
        "reverses",
        "created_at",
    }


def test_a_distribution_needs_a_positive_amount_each() -> None:
    with pytest.raises(ValidationError):
        DistributeAsset(from_entity=uuid.uuid4(), asset="USD", amount_each=0, recipients=[])


def hold_body(**fields: object) -> dict[str, object]:
    return {"to": str(uuid.uuid4()), "asset": "USD", "amount": 5, **fields}


@pytest.mark.parametrize("expires_in", [59, 604_801, 0, -60, "3600", 3600.0, True, None])
def test_a_hold_expires_in_60_seconds_to_a_week_given_as_an_integer(expires_in: object) -> None:
    # Given a hold body whose expires_in is outside 60..604800 or not a JSON integer
    # Then it is refused; the bounds themselves and the default (a day) are accepted
    with pytest.raises(ValidationError):
        HoldBody.model_validate(hold_body(expires_in=expires_in))
    assert HoldBody.model_validate(hold_body(expires_in=60)).expires_in == 60
    assert HoldBody.model_validate(hold_body(expires_in=604_800)).expires_in == 604_800
    assert HoldBody.model_validate(hold_body()).expires_in == 86_400


@pytest.mark.parametrize("amount", ["10", 1.5, 0, -1, MAX + 1, True])
def test_hold_and_capture_amounts_are_json_integers_in_range(amount: object) -> None:
    with pytest.raises(ValidationError):
        HoldBody.model_validate(hold_body(amount=amount))
    with pytest.raises(ValidationError):
        CaptureBody.model_validate({"amount": amount})


def test_a_capture_body_may_leave_the_amount_out_to_take_the_whole_hold() -> None:
    assert CaptureBody.model_validate({}).amount is None
    assert CaptureBody.model_validate({"amount": MAX}).amount == MAX
    with pytest.raises(ValidationError):
        CaptureBody.model_validate({"amount": 1, "all": True})


@pytest.mark.parametrize("reason", ["", "   ", "r" * 281, None, 5])
def test_a_reversal_needs_a_reason_of_1_to_280_characters_that_is_not_blank(reason: object) -> None:
    with pytest.raises(ValidationError):
        ReverseBody.model_validate({"reason": reason})
    assert ReverseBody.model_validate({"reason": "r" * 280}).reason == "r" * 280


def test_a_hold_serializes_from_by_its_contract_name_and_answers_the_contract_fields() -> None:
    # Given a hold's state as an event carries it
    now = datetime.now(UTC)
    fields = {"id": uuid.uuid4(), "from": uuid.uuid4(), "to": uuid.uuid4(), "asset": "USD", "amount": 7}
    state = HoldState.model_validate({**fields, "status": "pending", "expires_at": now, "created_at": now})
    # When it is dumped and answered
    dumped = state.model_dump(mode="json")
    # Then it round-trips with "from", and the answer has exactly the contract's fields
    assert (dumped["from"], "from_" in dumped) == (str(fields["from"]), False)
    assert HoldState.model_validate(dumped) == state
    assert set(HoldOut.of(state).model_dump(mode="json")) == {
        "id",
        "from",
        "to",
        "asset",
        "amount",
        "captured",
        "status",
        "memo",
        "expires_at",
        "created_at",
    }
    assert (state.role_of(state.from_), state.role_of(state.to), state.role_of(uuid.uuid4())) == (
        "payer",
        "payee",
        None,
    )


def test_a_balance_answers_amount_held_and_available_and_old_events_hold_nothing() -> None:
    # Given a balance event from before holds (no "held") and one with 30 held of 100
    old = BalanceState.model_validate(
        {"entity_id": uuid.uuid4(), "asset": "USD", "amount": 100, "scale": 2, "version": 3}
    )
    now = old.model_copy(update={"held": 30})
    # Then the first has all of it available, the second 70, in the contract's order of fields
    assert BalanceOut.of(old).model_dump() == {"asset": "USD", "amount": 100, "held": 0, "available": 100, "scale": 2}
    assert list(BalanceOut.of(now).model_dump().items()) == [
        ("asset", "USD"),
        ("amount", 100),
        ("held", 30),
        ("available", 70),
        ("scale", 2),
    ]
