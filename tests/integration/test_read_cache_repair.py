"""A read cache with items lost or corrupted: never a 500, never a wrong decision, repaired from the truth."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

from francium import maintenance
from shared import repair
from shared.context import Caller
from shared.readcache import STATE
from shared.settings import reset_settings
from tests.integration.oxygen_support import authorize, oxygen
from tests.integration.social_support import deactivate, person, read, rhenium
from tests.support.polling import wait_until
from tests.support.streams import StreamDriver
from tests.support.tokens import token_for

TABLE = "ReadCacheTable"


@pytest.fixture
def repairing() -> Iterator[None]:
    """Readers may ask the maintenance function ("maintenance" in tests) for repairs."""
    os.environ["MAINTENANCE_FUNCTION"] = "maintenance"
    reset_settings()
    repair.forget()
    yield
    del os.environ["MAINTENANCE_FUNCTION"]
    reset_settings()
    repair.forget()


def corrupt(stack: StreamDriver, pk: str, **attributes: dict[str, Any]) -> None:
    """Overwrite attributes of the item at (pk, state) behind the projector's back."""
    names = {f"#a{n}": name for n, name in enumerate(attributes)}
    values = {f":v{n}": value for n, value in enumerate(attributes.values())}
    stack.dynamodb.update_item(
        TableName=TABLE,
        Key={"pk": {"S": pk}, "sk": {"S": STATE}},
        UpdateExpression="SET " + ", ".join(f"#a{n} = :v{n}" for n in range(len(attributes))),
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
    )


def lose(stack: StreamDriver, pk: str) -> None:
    stack.dynamodb.delete_item(TableName=TABLE, Key={"pk": {"S": pk}, "sk": {"S": STATE}})


def old_token(who: Caller) -> str:
    """An access token issued a minute ago: its holder cannot be lag any more."""
    return token_for(who.entity_id, session_id=who.session_id, issued_at=int(time.time()) - 60)


def test_a_valid_login_whose_entity_and_session_the_cache_lost_or_garbled_is_allowed_on_the_truth(
    stack: StreamDriver, repairing: None
) -> None:
    garbled, lost = person(stack), person(stack)
    corrupt(stack, f"entity#{garbled.entity_id}", data={"S": "not json {"})
    corrupt(stack, f"session#{garbled.session_id}", data={"S": '{"id": 5}'})
    lose(stack, f"entity#{lost.entity_id}")
    lose(stack, f"session#{lost.session_id}")
    for who in (garbled, lost):
        answer = authorize(old_token(who))
        assert answer["context"]["entity_id"] == str(who.entity_id)
    # And the cache holds them again, as the truth has them
    assert maintenance.verify()["count"] == 0


def test_the_truth_decides_a_repaired_holder_a_deactivated_entity_stays_refused(
    stack: StreamDriver, repairing: None
) -> None:
    gone = person(stack)
    deactivate(stack, gone)
    lose(stack, f"entity#{gone.entity_id}")
    with pytest.raises(Exception, match="Unauthorized"):
        authorize(old_token(gone))
    # A made-up session of a real entity is refused too: the truth has no such session
    real = person(stack)
    with pytest.raises(Exception, match="Unauthorized"):
        authorize(token_for(real.entity_id, issued_at=int(time.time()) - 60))


def test_without_a_maintenance_function_a_lost_holder_is_refused_not_trusted(stack: StreamDriver) -> None:
    who = person(stack)
    lose(stack, f"entity#{who.entity_id}")
    with pytest.raises(Exception, match="Unauthorized"):
        authorize(old_token(who))


def test_an_unreadable_item_is_503_not_ready_and_the_retry_reads_it_repaired(
    stack: StreamDriver, repairing: None
) -> None:
    alice, bob = person(stack), person(stack)
    sent = rhenium(stack, "POST", "/v1/messages", alice, body={"to_entity": str(bob.entity_id), "body": "hello"})
    assert sent.status == 201
    corrupt(stack, f"message#{sent.body['id']}", data={"S": "garbage"})
    first = read("/v1/messages/inbox", bob)
    assert first.status == 503
    assert first.body["code"] == "not_ready"
    assert first.header("Retry-After") == "1"
    # The repair was asked for in the background; the client's retry finds the message again
    again = wait_until(lambda: read("/v1/messages/inbox", bob), lambda a: a.status == 200, "a repaired inbox")
    assert [m["body"] for m in again.body["items"]] == ["hello"]


def test_an_item_whose_version_is_not_a_number_is_replaced_by_the_next_event(stack: StreamDriver) -> None:
    who = person(stack)
    corrupt(stack, f"entity#{who.entity_id}", ver={"S": "x"})
    assert read("/v1/entities/me", who).status == 503
    assert maintenance.verify()["by_kind"] == {"mismatch": 1}
    # The next event of the aggregate overwrites it, as it would an older version
    renamed = oxygen("PATCH", "/v1/entities/me", caller=who, body={"display_name": "Renamed"})
    assert renamed["statusCode"] == 200, renamed
    stack.drain()
    assert read("/v1/entities/me", who).body["display_name"] == "Renamed"


def test_verify_reports_unreadable_items_and_rebuild_replaces_them(stack: StreamDriver) -> None:
    who = person(stack)
    corrupt(stack, f"entity#{who.entity_id}", data={"S": "[1, 2"})
    corrupt(stack, f"session#{who.session_id}", ver={"S": "x"})
    found = maintenance.verify()
    assert found["by_kind"] == {"mismatch": 2}
    done = maintenance.rebuild()
    assert done["rewritten"] == 2
    assert maintenance.verify()["count"] == 0
    assert read("/v1/entities/me", who).status == 200


def test_a_repair_replaces_a_wrong_item_in_place_so_a_racing_reader_never_finds_the_key_empty(
    stack: StreamDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an entity whose item holds a wrong body and one whose version is ahead of the truth
    garbled, ahead = person(stack), person(stack)
    corrupt(stack, f"entity#{garbled.entity_id}", data={"S": '{"id": "not an entity"}'})
    corrupt(stack, f"entity#{ahead.entity_id}", ver={"N": "99"})
    deleted: list[Any] = []
    real = maintenance.dynamodb

    class Watching:
        def __getattr__(self, name: str) -> Any:
            return getattr(real(), name)

        def delete_item(self, **request: Any) -> Any:
            deleted.append(request["Key"])
            return real().delete_item(**request)

    monkeypatch.setattr(maintenance, "dynamodb", Watching)
    # When they are repaired
    assert maintenance.rebuild()["rewritten"] == 2
    # Then nothing was deleted on the way (one conditional put each), and the truth is back
    assert deleted == []
    assert maintenance.verify()["count"] == 0
    assert read("/v1/entities/me", garbled).status == 200
    assert read("/v1/entities/me", ahead).status == 200
