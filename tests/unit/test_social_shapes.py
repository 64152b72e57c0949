"""Carbon's and Rhenium's pure pieces: wire shapes, sort keys, system-message ids and texts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from carbon.models import CreateGroupBody, DistributeBody, UpdateGroupBody
from francium.routes.messages import position
from rhenium.trigger import notice_text
from shared.contracts.nickel import TransferState
from shared.contracts.rhenium import MessageOut, MessageState, system_message_id
from shared.errors import InvalidRequest
from shared.pagination import encode_cursor
from shared.readcache import timekey


def test_a_message_serializes_its_sender_as_from_and_one_audience_as_to() -> None:
    sender, group = uuid.uuid4(), uuid.uuid4()
    state = MessageState(id=uuid.uuid4(), sender_id=sender, to_group=group, body="hi", sent_at=datetime.now(UTC))
    wire = MessageOut.of(state, read=True).model_dump(mode="json")
    assert wire["from"] == str(sender)
    assert wire["to"] == {"group_id": str(group)}
    assert "from_" not in wire
    system = MessageOut.of(state.model_copy(update={"sender_id": None, "to_group": None, "to_all": True}), read=False)
    assert system.model_dump(mode="json")["from"] is None
    assert system.model_dump(mode="json")["to"] == {"all": True}


def test_time_keys_sort_as_text_in_time_order_whatever_the_zone_or_microseconds() -> None:
    base = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)
    moments = [
        base,
        base + timedelta(microseconds=1),
        base.astimezone(timezone(timedelta(hours=5))) + timedelta(seconds=1),
    ]
    keys = [timekey(m) for m in moments]
    assert keys == sorted(keys)
    assert len({len(k) for k in keys}) == 1


def test_system_message_ids_are_stable_per_source_and_distinct_across_sources() -> None:
    assert system_message_id("transfer:1") == system_message_id("transfer:1")
    assert system_message_id("transfer:1") != system_message_id("transfer:2")


def test_a_transfer_notice_reads_nickels_payload_and_names_amount_asset_and_memo() -> None:
    payer = uuid.uuid4()
    notice = TransferState.model_validate(
        {
            "id": str(uuid.uuid4()),
            "from": str(payer),
            "to": str(uuid.uuid4()),
            "asset": "GOLD",
            "amount": 5,
            "memo": "tea",
            "kind": "transfer",
            "created_at": "2030-01-01T00:00:00Z",
            "version": 1,
        }
    )
    text = notice_text(notice)
    assert str(payer) in text
    assert "5 GOLD" in text
    assert text.endswith("Memo: tea")
    issued = notice.model_copy(update={"from_": None, "memo": None})
    assert "issuer of GOLD" in notice_text(issued)


def test_an_inbox_cursor_must_be_one_of_ours() -> None:
    assert position(None) is None
    assert position(encode_cursor({"before": "2030#x"})) == "2030#x"
    for bad in ("not-base64!", encode_cursor({"before": 5}), encode_cursor({"before": "x", "pk": "other"})):
        with pytest.raises(InvalidRequest):
            position(bad)


@pytest.mark.parametrize(
    "body",
    [{"name": ""}, {"name": " "}, {"name": "n" * 101}, {"name": "ok", "visibility": "hidden"}, {"name": "ok", "x": 1}],
)
def test_group_bodies_refuse_what_the_contract_refuses(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        CreateGroupBody.model_validate(body)


def test_a_patch_tells_a_cleared_description_from_an_absent_one() -> None:
    assert "description" in UpdateGroupBody.model_validate({"description": None}).model_fields_set
    assert "description" not in UpdateGroupBody.model_validate({"name": "x"}).model_fields_set


@pytest.mark.parametrize("amount", ["10", 1.5, 0, -1, 2**63, True])
def test_a_distribution_amount_is_a_strict_positive_integer(amount: object) -> None:
    with pytest.raises(ValidationError):
        DistributeBody.model_validate({"asset": "GOLD", "amount_each": amount})
