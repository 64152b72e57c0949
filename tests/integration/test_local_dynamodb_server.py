"""The local stack's DynamoDB server is a process of its own, and it ends with the stack.

``infra.local.services.start_dynamodb`` starts moto's server as a child process; a stack that is
killed outright (SIGKILL: no cleanup runs) must not leave it running, holding a port and memory.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import boto3

from infra.local.services import start_dynamodb

ROOT = Path(__file__).resolve().parents[2]
STARTER = "from infra.local.services import start_dynamodb; print(start_dynamodb()[0], flush=True); input()"


def answers(endpoint: str) -> bool:
    parts = urlsplit(endpoint)
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=0.5):
            return True
    except OSError:
        return False


def test_the_server_answers_dynamodb_calls_and_stops_when_asked() -> None:
    # Given the local DynamoDB started
    endpoint, stop = start_dynamodb()
    try:
        # When a table is made and listed
        client = boto3.client(
            "dynamodb", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
        )
        client.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        # Then it answers as DynamoDB
        assert client.list_tables()["TableNames"] == ["t"]
    finally:
        stop()
    # And once stopped it no longer listens
    assert not answers(endpoint)


def test_a_server_whose_stack_is_killed_outright_exits_too() -> None:
    # Given a process (a stand-in for the stack) that started the local DynamoDB
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    stack = subprocess.Popen(  # noqa: S603 - this interpreter, our own code
        [sys.executable, "-c", STARTER], cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert stack.stdout is not None
    endpoint = stack.stdout.readline().strip()
    assert answers(endpoint)

    # When that process is killed without any chance to clean up
    stack.send_signal(signal.SIGKILL)
    stack.wait()

    # Then the server notices within a few seconds and exits
    deadline = time.monotonic() + 10
    while answers(endpoint) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not answers(endpoint)
