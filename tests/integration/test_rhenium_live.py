"""Live delivery's Lambda side: tickets, the WebSocket routes, and pushes from the change feed.

DynamoDB (the connections table, the read cache, the change feed) is moto's; the ``@connections``
management API is a recording stand-in, so a test can make a connection gone or a push time out.
The end-to-end tests (tests/e2e/test_live_delivery.py) run the same code behind real sockets.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from fluorine import db
from fluorine.publisher import publish
from francium.derived import stream_record
from rhenium import connections, live, realtime
from shared import readcache
from shared.context import Caller
from shared.contracts.carbon import member_aggregate
from shared.contracts.changes import ChangeRecord
from shared.contracts.oxygen_auth import SESSION_REVOKED, SessionState, session_aggregate
from tests.integration.social_support import (
    add,
    carbon,
    deactivate,
    inbox_ids,
    new_group,
    person,
    read,
    rhenium,
)
from tests.support.events import FakeContext, websocket_event
from tests.support.factories import start_session
from tests.support.streams import ProjectorOnly, StreamDriver


class ManagementApi:
    """API Gateway's ``@connections`` API as the pusher sees it: what was posted to whom."""

    def __init__(self) -> None:
        self.frames: dict[str, list[dict[str, Any]]] = {}
        self.deleted: list[str] = []
        self.gone: set[str] = set()
        self.timing_out: set[str] = set()

    def post_to_connection(self, ConnectionId: str, Data: bytes) -> dict[str, Any]:  # noqa: N803 - boto3's names
        if ConnectionId in self.gone:
            raise ClientError({"Error": {"Code": "GoneException", "Message": ""}}, "PostToConnection")
        if ConnectionId in self.timing_out:
            raise ReadTimeoutError(endpoint_url=f"https://example/@connections/{ConnectionId}")
        self.frames.setdefault(ConnectionId, []).append(json.loads(Data))
        return {}

    def delete_connection(self, ConnectionId: str) -> dict[str, Any]:  # noqa: N803
        if ConnectionId in self.gone:
            raise ClientError({"Error": {"Code": "GoneException", "Message": ""}}, "DeleteConnection")
        self.deleted.append(ConnectionId)
        return {}

    def bodies(self, connection: str) -> list[str]:
        return [f["message"]["body"] for f in self.frames.get(connection, [])]


@pytest.fixture
def stack(postgres: str, aws: None) -> StreamDriver:
    """The read side only: each test gives the feed to Rhenium's consumer itself (``trigger``)."""
    return ProjectorOnly()


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> ManagementApi:
    fake = ManagementApi()
    monkeypatch.setattr(live, "connections_api", lambda: fake)
    monkeypatch.setattr(realtime, "connections_api", lambda: fake)
    return fake


def ws(route: str, connection_id: str, **kwargs: Any) -> dict[str, Any]:
    return realtime.handler(websocket_event(route, connection_id, **kwargs), FakeContext())  # type: ignore[no-any-return]


def ticket(stack: StreamDriver, who: Caller) -> str:
    answer = rhenium(stack, "POST", "/v1/realtime/tickets", who)
    assert answer.status == 201, answer.body
    assert answer.header("Cache-Control") == "no-store"
    expires = datetime.fromisoformat(answer.body["expires_at"])
    assert 55 <= (expires - datetime.now(UTC)).total_seconds() <= 61
    return answer.body["ticket"]  # type: ignore[no-any-return]


def connect(stack: StreamDriver, who: Caller) -> str:
    connection_id = f"conn-{uuid.uuid4().hex[:12]}="
    assert ws("$connect", connection_id, query={"ticket": ticket(stack, who)}) == {"statusCode": 200}
    return connection_id


def trigger(driver: StreamDriver) -> None:
    """Rhenium's consumer over every change-feed record the driver has not read yet."""
    from rhenium.trigger import handler

    assert handler({"Records": driver.records()}, FakeContext()) == {"batchItemFailures": []}


def test_a_ticket_admits_one_connection_of_its_holder_once(stack: StreamDriver, api: ManagementApi) -> None:
    bob = person(stack)
    issued = ticket(stack, bob)
    assert ws("$connect", "c1", query={"ticket": issued}) == {"statusCode": 200}
    assert connections.connections_of(bob.entity_id) == ["c1"]
    # A used, unknown, oversized or missing ticket is refused, and admits nothing
    for query in ({"ticket": issued}, {"ticket": "made-up"}, {"ticket": "x" * 300}, {"ticket": ""}, None):
        assert ws("$connect", "c2", query=query)["statusCode"] == 401
    assert connections.connections_of(bob.entity_id) == ["c1"]
    # No caller, no ticket
    assert rhenium(stack, "POST", "/v1/realtime/tickets", None).status == 401


def test_an_expired_ticket_is_refused(stack: StreamDriver, api: ManagementApi) -> None:
    bob = person(stack)
    assert bob.session_id is not None
    stale, _ = connections.issue_ticket(connections.Holder(bob.entity_id, bob.session_id), now=time.time() - 61)
    assert ws("$connect", "c1", query={"ticket": stale})["statusCode"] == 401
    assert connections.connections_of(bob.entity_id) == []


def test_a_ticket_of_an_entity_deactivated_or_a_session_revoked_since_is_refused(
    stack: StreamDriver, api: ManagementApi
) -> None:
    leaver, logged_out = person(stack), person(stack)
    leavers, logged_outs = ticket(stack, leaver), ticket(stack, logged_out)
    deactivate(stack, leaver)
    stack.deliver([revoked_record(logged_out)])
    assert ws("$connect", "c1", query={"ticket": leavers})["statusCode"] == 401
    assert ws("$connect", "c2", query={"ticket": logged_outs})["statusCode"] == 401


def test_disconnect_forgets_a_connection_and_a_client_frame_closes_it(stack: StreamDriver, api: ManagementApi) -> None:
    bob = person(stack)
    first, second = connect(stack, bob), connect(stack, bob)
    assert ws("$disconnect", first) == {"statusCode": 200}
    assert ws("$default", second, body="hello?") == {"statusCode": 200}
    assert api.deleted == [second]
    assert connections.connections_of(bob.entity_id) == []
    assert ws("$disconnect", "never-seen") == {"statusCode": 200}  # a repeat or a stranger changes nothing


def test_a_direct_message_is_pushed_to_each_connection_of_its_recipient_as_the_inbox_shows_it(
    stack: StreamDriver, api: ManagementApi
) -> None:
    driver = StreamDriver()
    alice, bob, carol = person(stack), person(stack), person(stack)
    bobs, carols = [connect(stack, bob), connect(stack, bob)], connect(stack, carol)
    sent = rhenium(stack, "POST", "/v1/messages", alice, body={"to_entity": str(bob.entity_id), "body": "hi"})
    assert sent.status == 201
    trigger(driver)
    (shown,) = read("/v1/messages/inbox", bob).body["items"]
    for connection in bobs:
        assert api.frames[connection] == [{"type": "message", "message": shown}]
    assert carols not in api.frames


@pytest.mark.parametrize("small_group", [500, 1], ids=["members-looked-up", "connections-scanned"])
def test_a_group_broadcast_reaches_the_connected_members_whose_membership_covers_it(
    stack: StreamDriver, api: ManagementApi, monkeypatch: pytest.MonkeyPatch, small_group: int
) -> None:
    monkeypatch.setattr(live, "SMALL_GROUP", small_group)  # both ways of finding the audience
    owner, member, leaver, late, outsider = (person(stack) for _ in range(5))
    group = new_group(stack, owner)
    for who in (member, leaver):
        assert add(stack, group["id"], owner, who).status == 201
    assert carbon(stack, "DELETE", f"/v1/groups/{group['id']}/members/{leaver.entity_id}", leaver).status == 204
    sockets = {who.entity_id: connect(stack, who) for who in (owner, member, leaver, late, outsider)}
    driver = StreamDriver()
    sent = carbon(stack, "POST", f"/v1/groups/{group['id']}/broadcast", owner, body={"body": "meet at six"})
    assert sent.status == 202
    assert add(stack, group["id"], owner, late).status == 201  # joins after it was sent
    trigger(driver)
    got = {who: api.bodies(socket) for who, socket in sockets.items()}
    assert got == {
        owner.entity_id: ["meet at six"],
        member.entity_id: ["meet at six"],
        leaver.entity_id: [],
        late.entity_id: [],
        outsider.entity_id: [],
    }
    # Pushed exactly to those whose inbox it entered (once its fan-out's copies are projected)
    stack.drain()
    assert all((sent.body["id"] in inbox_ids(who)) == bool(got[who.entity_id]) for who in (owner, member, late))


class Unprojected(StreamDriver):
    """A read side that has seen nothing of what is written from here on (its projector is late)."""

    def drain(self) -> list[dict[str, Any]]:
        return []

    def settle(self) -> int:
        return 0


@pytest.mark.parametrize("small_group", [500, 1], ids=["members-looked-up", "connections-scanned"])
def test_a_broadcast_reaches_a_member_whose_join_the_read_cache_has_not_seen_yet(
    stack: StreamDriver, api: ManagementApi, monkeypatch: pytest.MonkeyPatch, small_group: int
) -> None:
    # The trigger may take a broadcast off the feed before the projector has written the group or
    # a join that came just before it: its readers are who Fluorine says, not the read cache.
    monkeypatch.setattr(live, "SMALL_GROUP", small_group)
    monkeypatch.setattr(live, "LIVE_AUDIENCE_PAGE", 2)  # a larger group's readers come in pages
    owner, early, newcomer, outsider = (person(stack) for _ in range(4))
    sockets = {who.entity_id: connect(stack, who) for who in (owner, early, newcomer, outsider)}
    driver = StreamDriver()
    late = Unprojected()
    group = new_group(late, owner)
    assert add(late, group["id"], owner, early).status == 201
    assert add(late, group["id"], owner, newcomer).status == 201
    sent = carbon(late, "POST", f"/v1/groups/{group['id']}/broadcast", owner, body={"body": "welcome"})
    assert sent.status == 202
    assert readcache.get(member_aggregate(uuid.UUID(group["id"]), newcomer.entity_id)) is None  # not projected
    trigger(driver)
    assert {who: api.bodies(socket) for who, socket in sockets.items()} == {
        owner.entity_id: ["welcome"],
        early.entity_id: ["welcome"],
        newcomer.entity_id: ["welcome"],
        outsider.entity_id: [],
    }


def test_a_small_groups_broadcast_looks_up_its_members_connections_without_scanning_everyones(
    stack: StreamDriver, api: ManagementApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner, member = person(stack), person(stack)
    group = new_group(stack, owner)
    assert add(stack, group["id"], owner, member).status == 201
    socket = connect(stack, member)
    driver = StreamDriver()
    assert carbon(stack, "POST", f"/v1/groups/{group['id']}/broadcast", owner, body={"body": "small"}).status == 202
    scans: list[str] = []
    real = connections.dynamodb

    class Watching:
        def __getattr__(self, name: str) -> Any:
            return getattr(real(), name)

        def scan(self, **request: Any) -> Any:
            scans.append(request["TableName"])
            return real().scan(**request)

    monkeypatch.setattr(connections, "dynamodb", Watching)
    trigger(driver)
    assert api.bodies(socket) == ["small"]
    assert scans == []


def test_a_deleted_groups_broadcast_still_on_the_feed_is_pushed_to_no_one(
    stack: StreamDriver, api: ManagementApi
) -> None:
    owner, member = person(stack), person(stack)
    group = new_group(stack, owner)
    assert add(stack, group["id"], owner, member).status == 201
    socket = connect(stack, member)
    driver = StreamDriver()
    assert carbon(stack, "POST", f"/v1/groups/{group['id']}/broadcast", owner, body={"body": "bye"}).status == 202
    assert carbon(stack, "DELETE", f"/v1/groups/{group['id']}", owner).status == 204
    trigger(driver)
    assert api.bodies(socket) == []


def test_a_platform_broadcast_reaches_every_connected_active_entity_that_existed_when_it_was_sent(
    stack: StreamDriver, api: ManagementApi
) -> None:
    admin = person(stack, frozenset({"admin"}))
    reader, gone = person(stack), person(stack)
    sockets = {"admin": connect(stack, admin), "reader": connect(stack, reader), "gone": connect(stack, gone)}
    driver = StreamDriver()
    deactivate(stack, gone)
    assert rhenium(stack, "POST", "/v1/broadcasts", admin, body={"body": "maintenance at noon"}).status == 202
    newcomer = person(stack)
    sockets["newcomer"] = connect(stack, newcomer)
    trigger(driver)
    assert {name: api.bodies(socket) for name, socket in sockets.items()} == {
        "admin": ["maintenance at noon"],
        "reader": ["maintenance at noon"],
        "gone": [],
        "newcomer": [],
    }


def test_a_gone_connection_is_forgotten_and_a_failing_one_holds_no_one_else(
    stack: StreamDriver, api: ManagementApi
) -> None:
    alice, bob = person(stack), person(stack)
    dead, slow, fine = connect(stack, bob), connect(stack, bob), connect(stack, bob)
    api.gone.add(dead)
    api.timing_out.add(slow)
    driver = StreamDriver()
    sent = rhenium(stack, "POST", "/v1/messages", alice, body={"to_entity": str(bob.entity_id), "body": "1"})
    assert sent.status == 201
    trigger(driver)  # the record succeeds: the message is in the inbox whatever a client does
    assert api.bodies(fine) == ["1"]
    assert sorted(connections.connections_of(bob.entity_id)) == sorted([slow, fine])


def test_ending_a_session_or_deactivating_an_entity_closes_its_connections(
    stack: StreamDriver, api: ManagementApi
) -> None:
    bob, carol = person(stack), person(stack)
    bob_elsewhere = another_session(stack, bob)
    bobs, carols, elsewhere = connect(stack, bob), connect(stack, carol), connect(stack, bob_elsewhere)
    driver = StreamDriver()
    deactivate(stack, carol)
    trigger(driver)
    assert api.deleted == [carols]
    # When one of Bob's sessions is revoked, only that session's connections close
    from rhenium.trigger import handler

    assert handler({"Records": [revoked_record(bob)]}, FakeContext()) == {"batchItemFailures": []}
    assert sorted(api.deleted) == sorted([carols, bobs])
    assert connections.connections_of(bob.entity_id) == [elsewhere]


def another_session(stack: StreamDriver, who: Caller) -> Caller:
    """``who`` logged in a second time (another device): a caller of the new session."""
    actor, outcome = start_session(who.entity_id)
    publish(db.connection(), outcome.records)
    stack.drain()
    return Caller(entity_id=who.entity_id, kind=who.kind, roles=who.roles, session_id=actor.session_id)


def revoked_record(who: Caller) -> dict[str, Any]:
    """The change feed's record of ``who``'s session being revoked (a logout)."""
    assert who.session_id is not None
    state = SessionState(id=who.session_id, entity_id=who.entity_id, revoked=True, version=2)
    record = ChangeRecord(
        aggregate=session_aggregate(who.session_id),
        version=2,
        event_type=SESSION_REVOKED,
        payload=state.model_dump(mode="json"),
        seq=10**9 + uuid.uuid4().int % 10**6,
        occurred_at=datetime.now(UTC),
    )
    return stream_record(record)
