"""Recovery as a newcomer meets it: ``make verify`` / ``make rebuild`` with ``make run``'s environment
alone, and a stack SIGKILLed and started again on a persistent database catching up by itself.

Each test runs stacks of its own (the chaos run's ``StackProcess``), not the session's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from infra.chaos.stack import StackProcess
from infra.local.services import free_port
from infra.local.stores import RECORD
from shared.contracts.nickel import PostTransfer
from shared.contracts.rhenium import transfer_message_id
from tests.conftest import TEST_KEY_FILE
from tests.support.factories import act
from tests.support.postgres import fresh_database
from tests.support.stores import inside

ROOT = Path(__file__).resolve().parents[2]
ADMIN = ("recovery_admin", "recovery admin password")
PASSWORD = "a long enough password"


def run_environment(state: Path, **extra: str) -> dict[str, str]:
    """What a newcomer's shell has for ``make run`` (and so for ``make verify``): no store named."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DYNAMODB_ENDPOINT")}
    env.update(
        LOCAL_STATE_DIR=str(state),
        SIGNING_KEY_FILE=str(TEST_KEY_FILE),
        ADMIN_HANDLE=ADMIN[0],
        ADMIN_PASSWORD=ADMIN[1],
        PYTHONPATH=os.pathsep.join(str(ROOT / p) for p in ("layers/shared", "functions", ".")),
        **extra,
    )
    return env


@pytest.fixture
def state() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="elements-recovery-") as directory:
        yield Path(directory)


def maintenance(action: str, env: dict[str, str]) -> tuple[int, dict[str, Any], str]:
    """``make verify`` / ``make rebuild``'s command: exit status, JSON report, the summary line."""
    done = subprocess.run(  # noqa: S603 - our own module
        [sys.executable, "-m", "infra.local.maintenance", action],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode, json.loads(done.stdout) if done.stdout.strip() else {}, done.stderr


def settled_verify(env: dict[str, str]) -> tuple[int, dict[str, Any], str]:
    """verify, again until the stack's change feed has been delivered (at most about 20 s)."""
    for _ in range(40):
        found = maintenance("verify", env)
        if found[0] == 0:
            break
        time.sleep(0.5)
    return found


def sign_in(http: httpx.Client, handle: str, password: str = PASSWORD) -> dict[str, str]:
    answer = http.post("/v1/auth/token", json={"login": handle, "password": password})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def newcomer(http: httpx.Client) -> tuple[str, dict[str, str]]:
    handle = f"r_{uuid.uuid4().hex[:10]}"
    body = {"kind": "real", "handle": handle, "display_name": "Recovery", "password": PASSWORD}
    created = http.post("/v1/entities", json=body)
    assert created.status_code == 201, created.text
    return str(created.json()["id"]), sign_in(http, handle)


def test_verify_and_rebuild_work_with_the_environment_of_make_run_alone(state: Path) -> None:
    # Given `make run` with its defaults (embedded PostgreSQL, in-process DynamoDB) and one registration
    env = run_environment(state)
    stack = StackProcess(free_port(), env, state / "stack.log")
    stack.start()
    try:
        with httpx.Client(base_url=stack.url, timeout=30) as http:
            entity, _ = newcomer(http)

        # When `make verify` runs with the same environment, then after an item of the cache is lost
        clean = settled_verify(env)
        endpoint = json.loads((state / RECORD).read_text())["dynamodb_endpoint"]
        cache = boto3.client("dynamodb", endpoint_url=endpoint)  # the region the stack inherited
        cache.delete_item(TableName="ReadCacheTable", Key={"pk": {"S": f"entity#{entity}"}, "sk": {"S": "state"}})
        drifted = maintenance("verify", env)
        rebuilt = maintenance("rebuild", env)

        # Then verify found the stack's stores and no drift, then the loss; rebuild repaired it
        assert (clean[0], clean[1]["count"]) == (0, 0), clean
        assert "verify: 0 drift" in clean[2]
        assert (drifted[0], drifted[1]["by_kind"]) == (1, {"missing": 1})
        assert (rebuilt[0], rebuilt[1]["rewritten"]) == (0, 1)
        assert maintenance("verify", env)[0] == 0
    finally:
        stack.stop()

    # And once the stack is gone, verify says there is nothing to verify
    gone = maintenance("verify", env)
    assert gone[0] == 2
    assert "No running local stack" in gone[2]


def test_a_killed_stack_restarted_on_a_persistent_database_catches_up_before_it_serves(state: Path) -> None:
    with fresh_database() as database_url:
        # Given a stack on a persistent database: an asset, a payer paid to, a payment to a payee
        stack = StackProcess(free_port(), run_environment(state, DATABASE_URL=database_url), state / "stack.log")
        assert "nothing to replay" in stack.start()
        try:
            with httpx.Client(base_url=stack.url, timeout=30) as http:
                admin = sign_in(http, *ADMIN)
                asset = {"code": "REC", "name": "Recovery coin", "scale": 0}
                assert http.post("/v1/assets", json=asset, headers=admin).status_code == 201
                payer, payer_auth = newcomer(http)
                payee, payee_auth = newcomer(http)
                issued = http.post("/v1/assets/REC/issue", json={"to": payer, "amount": 100}, headers=admin)
                assert issued.status_code == 201, issued.text
                paid = http.post(
                    "/v1/transfers",
                    json={"to": payee, "asset": "REC", "amount": 7},
                    headers={**payer_auth, "Idempotency-Key": str(uuid.uuid4())},
                )
                assert paid.status_code == 201, paid.text
                for _ in range(100):  # the trigger has told the payee (so only what follows can be lost)
                    if http.get("/v1/messages/inbox", headers=payee_auth).json()["items"]:
                        break
                    time.sleep(0.1)

            # When the stack is SIGKILLed (its read cache and change feed die with it), a payment
            # commits while it is down (its change record never reaches any feed), and it starts again
            stack.kill()
            late = PostTransfer(
                id=uuid.uuid4(), from_entity=uuid.UUID(payer), to=uuid.UUID(payee), asset="REC", amount=5
            )
            with inside({"database_url": database_url}):
                act(late)
            caught_up = stack.start()

            # Then it said what it replayed, and at once (no X-Min-Version, no wait) reads are
            # right, tokens from before the kill work, and the late payment's message is there
            assert "Caught up with PostgreSQL" in caught_up
            assert "1 system messages re-derived" in caught_up, caught_up
            with httpx.Client(base_url=stack.url, timeout=30) as http:
                assert http.get("/v1/entities/me", headers=payer_auth).json()["id"] == payer
                wallet = http.get("/v1/wallets/me", headers=payer_auth).json()
                assert [(b["asset"], b["amount"]) for b in wallet["balances"]] == [("REC", 88)]
                inbox = http.get("/v1/messages/inbox", headers=payee_auth).json()["items"]
                assert {m["id"] for m in inbox} == {str(transfer_message_id(t)) for t in (paid.json()["id"], late.id)}
        finally:
            stack.stop()


def test_after_a_total_loss_of_the_dynamodb_side_make_rebuild_restores_every_view(state: Path) -> None:
    # Given a default stack where a payment was made and its recipient told
    env = run_environment(state)
    stack = StackProcess(free_port(), env, state / "stack.log")
    stack.start()
    try:
        with httpx.Client(base_url=stack.url, timeout=30) as http:
            admin = sign_in(http, *ADMIN)
            assert (
                http.post("/v1/assets", json={"code": "LOSS", "name": "Loss", "scale": 0}, headers=admin).status_code
                == 201
            )
            payer, payer_auth = newcomer(http)
            payee, payee_auth = newcomer(http)
            assert (
                http.post("/v1/assets/LOSS/issue", json={"to": payer, "amount": 10}, headers=admin).status_code == 201
            )
            pay = {"to": payee, "asset": "LOSS", "amount": 3}
            assert (
                http.post("/v1/transfers", json=pay, headers={**payer_auth, "Idempotency-Key": "k1"}).status_code == 201
            )
            assert settled_verify(env)[0] == 0
            inbox_before = http.get("/v1/messages/inbox", headers=payee_auth).json()

            # When the read cache and the change feed are lost (their tables deleted), then `make rebuild` runs
            endpoint = json.loads((state / RECORD).read_text())["dynamodb_endpoint"]
            dynamodb = boto3.client("dynamodb", endpoint_url=endpoint)  # the region the stack inherited
            for table in ("ReadCacheTable", "ChangeFeedTable"):
                dynamodb.delete_table(TableName=table)
            rebuilt = maintenance("rebuild", env)

            # Then every view is back: the payee's inbox, the payer's wallet, and verify finds no drift
            assert rebuilt[0] == 0, rebuilt
            assert rebuilt[1]["by_kind"]["missing"] == rebuilt[1]["rewritten"]
            assert maintenance("verify", env)[0] == 0
            assert http.get("/v1/messages/inbox", headers=payee_auth).json() == inbox_before
            wallet = http.get("/v1/wallets/me", headers=payer_auth).json()
            assert [(b["asset"], b["amount"]) for b in wallet["balances"]] == [("LOSS", 7)]
    finally:
        stack.stop()
