"""Live delivery over a real WebSocket client (the ``websockets`` library) against the local stack."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosedError, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.e2e.contract_support import (
    Actor,
    admin_headers,
    assert_problem,
    assert_written,
    key,
    new_asset,
    register,
)

QUIET = 0.5  # how long a connection is listened to for frames that must not come


def ticket_url(client: httpx.Client, actor: Actor) -> str:
    answer = client.post("/v1/realtime/tickets", headers=actor.headers)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert set(body) == {"ticket", "url", "expires_at"}
    assert body["url"].startswith("ws://127.0.0.1:")
    assert body["url"].endswith("/v1/realtime")
    return f"{body['url']}?ticket={body['ticket']}"


@contextmanager
def live(client: httpx.Client, actor: Actor) -> Iterator[ClientConnection]:
    with connect(ticket_url(client, actor), open_timeout=10) as socket:
        yield socket


def frames(socket: ClientConnection, wanted: int, timeout: float = 10.0) -> list[dict[str, Any]]:
    """The next ``wanted`` frames, then proof that no other comes within ``QUIET`` seconds."""
    got = [json.loads(socket.recv(timeout=timeout)) for _ in range(wanted)]
    with pytest.raises(TimeoutError):
        socket.recv(timeout=QUIET)
    return got


def bodies(received: list[dict[str, Any]]) -> list[str]:
    assert all(f["type"] == "message" for f in received)
    return [f["message"]["body"] for f in received]


def test_a_direct_message_reaches_every_connection_of_its_recipient_and_no_one_else(client: httpx.Client) -> None:
    # Given Bob connected twice, and Carol connected once
    alice, bob, carol = register(client), register(client), register(client)
    with live(client, bob) as first, live(client, bob) as second, live(client, carol) as other:
        # When Alice sends Bob a message
        sent = client.post("/v1/messages", json={"to_entity": bob.id, "body": "hi Bob"}, headers=alice.headers)
        assert_written(sent, 201)
        # Then both of Bob's connections get it once, as the inbox shows it; Carol's gets nothing
        for socket in (first, second):
            (frame,) = frames(socket, 1)
            assert frame == {"type": "message", "message": sent.json()}
        assert frames(other, 0) == []


def test_group_and_platform_broadcasts_and_system_messages_arrive_live(client: httpx.Client) -> None:
    # Given a group with an owner and a member, an outsider, and everyone connected
    admin = admin_headers(client)
    owner, member, outsider = register(client), register(client), register(client)
    group = client.post("/v1/groups", json={"name": "Live"}, headers=owner.headers).json()
    assert_written(client.post(f"/v1/groups/{group['id']}/join", headers=member.headers), 201)
    code = new_asset(client, admin, scale=0)
    with live(client, member) as member_socket, live(client, outsider) as outsider_socket:
        # When the owner broadcasts to the group, the admin to everyone, and the member is paid
        text = f"group news {uuid.uuid4().hex[:6]}"
        group_sent = client.post(f"/v1/groups/{group['id']}/broadcast", json={"body": text}, headers=owner.headers)
        assert_written(group_sent, 202)
        platform = client.post("/v1/broadcasts", json={"body": f"all {text}"}, headers=admin)
        assert_written(platform, 202)
        issue = {"to": member.id, "amount": 5}
        issue = {"to": member.id, "amount": 5}
        issued = client.post(f"/v1/assets/{code}/issue", json=issue, headers={**admin, **key()})
        assert_written(issued, 201)
        # Then the member gets the three (the system message of the issue among them), each once
        got = bodies(frames(member_socket, 3))
        assert {text, f"all {text}"} <= set(got)
        assert any("You received 5" in b for b in got)
        # And the outsider only the platform broadcast
        assert bodies(frames(outsider_socket, 1)) == [f"all {text}"]


def test_a_member_who_left_stops_getting_the_groups_broadcasts(client: httpx.Client) -> None:
    owner, leaver = register(client), register(client)
    group = client.post("/v1/groups", json={"name": "Leaving"}, headers=owner.headers).json()
    assert_written(client.post(f"/v1/groups/{group['id']}/join", headers=leaver.headers), 201)
    with live(client, leaver) as socket:
        first = client.post(f"/v1/groups/{group['id']}/broadcast", json={"body": "before"}, headers=owner.headers)
        assert bodies(frames(socket, 1)) == ["before"]
        left = client.delete(f"/v1/groups/{group['id']}/members/{leaver.id}", headers=leaver.headers)
        assert_written(left, 204)
        client.post(f"/v1/groups/{group['id']}/broadcast", json={"body": "after"}, headers=owner.headers)
        assert frames(socket, 0) == []
    assert first.status_code == 202


def test_a_ticket_is_single_use_and_unknown_tickets_are_refused_at_the_handshake(client: httpx.Client) -> None:
    actor = register(client)
    url = ticket_url(client, actor)
    with connect(url, open_timeout=10):
        pass
    for refused in (url, url.split("?")[0] + "?ticket=made-up", url.split("?")[0]):
        with pytest.raises(InvalidStatus) as answer:
            connect(refused, open_timeout=10)
        assert answer.value.response.status_code == 401
    assert_problem(client.post("/v1/realtime/tickets"), 401, "unauthorized")


def test_a_ticket_of_an_entity_deactivated_since_is_refused(client: httpx.Client) -> None:
    actor = register(client)
    url = ticket_url(client, actor)
    assert_written(client.delete("/v1/entities/me", headers=actor.headers), 204)
    with pytest.raises(InvalidStatus) as answer:
        connect(url, open_timeout=10)
    assert answer.value.response.status_code == 401


def test_a_client_that_sends_frames_is_closed_as_a_policy_violation_and_others_are_unaffected(
    client: httpx.Client,
) -> None:
    # Given two connected entities, one of which misbehaves
    noisy, quiet, sender = register(client), register(client), register(client)
    with live(client, noisy) as bad, live(client, quiet) as good:
        # When the noisy one sends garbage
        bad.send("\x00not a protocol\xff")
        # Then it is closed with 1008, and the quiet one still gets its messages
        with pytest.raises(ConnectionClosedError) as closed:
            bad.recv(timeout=10)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1008
        body = {"to_entity": quiet.id, "body": "still connected"}
        sent = client.post("/v1/messages", json=body, headers=sender.headers)
        assert_written(sent, 201)
        assert bodies(frames(good, 1)) == ["still connected"]


def test_logging_out_or_leaving_closes_the_connections_that_session_or_entity_opened(client: httpx.Client) -> None:
    # Given two entities, each connected
    leaver, quitter = register(client), register(client)
    with live(client, leaver) as leaving, live(client, quitter) as quitting:
        # When one logs out and the other deactivates
        logout = client.post("/v1/auth/logout", json={"refresh_token": quitter.refresh_token}, headers=quitter.headers)
        assert logout.status_code == 204
        assert_written(client.delete("/v1/entities/me", headers=leaver.headers), 204)
        # Then both connections are closed by the server
        for socket in (leaving, quitting):
            with pytest.raises(ConnectionClosedError):
                socket.recv(timeout=10)
