"""A local or test stage never reaches AWS: a call that would leave the machine fails at once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.httpsession import URLLib3Session

from infra.local.services import free_port
from shared.aws import dynamodb, reset_clients
from shared.local_only import RemoteEndpointRefused, is_local
from shared.settings import reset_settings
from tests.support.aws import moto_tables


@pytest.fixture
def fresh_client(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """The environment to change before ``dynamodb()`` makes its client (both restored after)."""
    reset_settings()
    reset_clients()
    yield monkeypatch
    monkeypatch.undo()
    reset_settings()
    reset_clients()


def attempts_of(client: Any) -> list[str]:
    """The name of every request the client gets ready to send (each attempt, retries included)."""
    sent: list[str] = []
    client.meta.events.register("before-send", lambda event_name, **_: sent.append(event_name))
    return sent


def test_a_test_stage_call_with_no_endpoint_and_no_moto_is_refused_once_with_the_host_named(
    fresh_client: pytest.MonkeyPatch,
) -> None:
    # Given the test stage, no DYNAMODB_ENDPOINT and no moto running
    client = dynamodb()
    attempts = attempts_of(client)

    # When the read side asks for a version
    with pytest.raises(RemoteEndpointRefused) as refused:
        client.batch_get_item(RequestItems={"ReadCacheTable": {"Keys": [{"pk": {"S": "a"}, "sk": {"S": "state"}}]}})

    # Then it is refused before anything is sent, naming the call and the host, and not retried
    message = str(refused.value)
    assert "DynamoDB_20120810.BatchGetItem" in message
    assert f"https://dynamodb.{client.meta.region_name}.amazonaws.com/" in message
    assert "'test' stage is local-only" in message
    assert "DYNAMODB_ENDPOINT" in message
    assert attempts == ["before-send.dynamodb.BatchGetItem"]


def test_a_local_stage_client_is_refused_too(fresh_client: pytest.MonkeyPatch) -> None:
    # Given the local stage (what `make run` sets) and no endpoint
    fresh_client.setenv("STAGE", "local")

    # When a call is made, Then it is refused
    with pytest.raises(RemoteEndpointRefused, match="'local' stage is local-only"):
        dynamodb().list_tables()


def test_calls_moto_answers_in_process_go_through(fresh_client: pytest.MonkeyPatch) -> None:
    # Given moto's DynamoDB in-process with the template's tables
    with moto_tables():
        # When the shared client lists the tables
        names = dynamodb().list_tables()["TableNames"]

    # Then moto answers (it does so before the guarded HTTP session is reached)
    assert {"ChangeFeedTable", "ReadCacheTable"} <= set(names)


def test_a_loopback_endpoint_is_reached(fresh_client: pytest.MonkeyPatch) -> None:
    # Given an endpoint on this machine where nothing listens
    fresh_client.setenv("DYNAMODB_ENDPOINT", f"http://127.0.0.1:{free_port()}")

    # When a call is made, Then it really tries to connect there (botocore's own error, not a refusal)
    with pytest.raises(EndpointConnectionError, match=r"127\.0\.0\.1"):
        dynamodb().list_tables()


def test_a_deployed_stage_client_keeps_botocores_own_http_session(fresh_client: pytest.MonkeyPatch) -> None:
    # Given a deployed stage
    fresh_client.setenv("STAGE", "dev")

    # When its client is made, Then nothing stands between it and the network
    assert type(dynamodb()._endpoint.http_session) is URLLib3Session


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://127.0.0.1:4566", True),
        ("http://127.0.0.2:8000/", True),
        ("http://localhost:8000", True),
        ("http://[::1]:8000", True),
        ("https://dynamodb.us-east-1.amazonaws.com/", False),
        ("http://10.0.0.5:8000", False),
        ("http://localhost.example.com", False),
    ],
)
def test_only_loopback_hosts_are_this_machine(url: str, local: bool) -> None:
    # Given a URL, When it is checked, Then only localhost and loopback addresses count as local
    assert is_local(url) is local
