"""Carbon's distributions: one all-or-nothing ledger transaction, idempotent by key."""

from __future__ import annotations

import uuid

from fluorine import db
from fluorine.publisher import publish
from francium import cache
from shared.context import Caller
from shared.contracts.nickel import BalanceState, CreateAsset, IssueAsset, wallet_aggregate
from tests.integration.social_support import Answer, add, carbon, inbox_ids, new_group, person
from tests.support.factories import act
from tests.support.streams import StreamDriver

ASSET = "GOLD"


def fund(stack: StreamDriver, who: Caller, amount: int) -> None:
    """Create the asset and issue ``amount`` of it to ``who`` through Nickel's commands."""
    for command in (
        CreateAsset(code=ASSET, name="Gold", scale=2),
        IssueAsset(id=uuid.uuid4(), asset=ASSET, to=who.entity_id, amount=amount),
    ):
        publish(db.connection(), act(command).records)
    stack.drain()


def balance(who: Caller) -> int:
    data = cache.get(wallet_aggregate(who.entity_id, ASSET))
    return BalanceState.model_validate(data).amount if data else 0


def distribute(stack: StreamDriver, group: dict, who: Caller, key: str | None = "d-1", **body: object) -> Answer:
    headers = {"Idempotency-Key": key} if key else {}
    payload = {"asset": ASSET, "amount_each": 100, **body}
    return carbon(stack, "POST", f"/v1/groups/{group['id']}/distribute", who, body=payload, headers=headers)


def funded_group(stack: StreamDriver, members: int = 3) -> tuple[Caller, list[Caller], dict]:
    owner = person(stack)
    fund(stack, owner, 1_000)
    group = new_group(stack, owner)
    people = [person(stack) for _ in range(members)]
    for p in people:
        add(stack, group["id"], owner, p)
    return owner, people, group


def test_a_distribution_pays_every_other_member_in_one_go(stack: StreamDriver) -> None:
    owner, people, group = funded_group(stack)
    answer = distribute(stack, group, owner)
    assert (answer.status, answer.body) == (201, {"transfers": 3, "total": 300})
    assert answer.header("X-Write-Version")
    assert balance(owner) == 700
    assert [balance(p) for p in people] == [100, 100, 100]


def test_a_repeated_key_moves_nothing_more_and_another_body_is_409(stack: StreamDriver) -> None:
    owner, people, group = funded_group(stack)
    first = distribute(stack, group, owner, key="same")
    again = distribute(stack, group, owner, key="same")
    assert (again.status, again.body) == (first.status, first.body)
    assert balance(owner) == 700
    other = distribute(stack, group, owner, key="same", amount_each=50)
    assert (other.status, other.body["code"]) == (409, "conflict")
    assert [balance(p) for p in people] == [100, 100, 100]


def test_a_distribution_that_cannot_be_covered_moves_nothing(stack: StreamDriver) -> None:
    owner, people, group = funded_group(stack)
    answer = distribute(stack, group, owner, amount_each=400)  # 3 x 400 > 1,000
    assert (answer.status, answer.body["code"]) == (422, "operation_failed")
    assert balance(owner) == 1_000
    assert [balance(p) for p in people] == [0, 0, 0]


def test_only_owners_and_admins_distribute_and_bad_requests_are_refused(stack: StreamDriver) -> None:
    owner, people, group = funded_group(stack, members=2)
    admin, member = people
    assert (
        carbon(
            stack, "PATCH", f"/v1/groups/{group['id']}/members/{admin.entity_id}", owner, body={"role": "admin"}
        ).status
        == 200
    )
    assert distribute(stack, group, member).status == 403
    assert distribute(stack, group, person(stack)).status == 403  # an outsider of a public group
    assert distribute(stack, group, owner, key=None).status == 400
    assert distribute(stack, group, owner, amount_each="10").status == 400
    assert distribute(stack, group, owner, amount_each=0).status == 400
    assert distribute(stack, group, owner, asset="NOPE").status == 404
    assert distribute(stack, group, admin, key="by-admin", amount_each=1).status == 422  # the admin holds nothing
    assert balance(owner) == 1_000


def test_each_recipient_is_told_by_a_system_message(stack: StreamDriver) -> None:
    from rhenium.trigger import handler
    from tests.support.events import FakeContext

    owner, people, group = funded_group(stack, members=2)
    driver = StreamDriver()  # reads the feed from its start, like the trigger's own event source mapping
    assert distribute(stack, group, owner).status == 201
    assert handler({"Records": driver.records()}, FakeContext()) == {"batchItemFailures": []}
    stack.drain()
    for p in people:
        assert len(inbox_ids(p)) == 1
