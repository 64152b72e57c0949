"""Each function's before-snapshot hooks leave nothing for its most common request to import.

A snapshot holds what init and the before-snapshot hooks loaded; whatever the first request
imports after a restore is paid again by every restored environment. Each function runs in a
fresh interpreter (bench/coldstart_probe.py, as the coldstart benchmark runs it): import the
handler, run the before-snapshot hooks, then the after-restore hooks and one request of the
function's most common event against moto's DynamoDB server and PostgreSQL, comparing
``sys.modules`` before and after the request.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench import coldstart_events as events
from bench import coldstart_stage as stage
from bench.bench_coldstart import PROBE, child_environment
from fluorine import db
from infra.local.template import load
from shared.settings import reset_settings
from tests.support.postgres import truncate_all

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = sorted(load(ROOT / "template.yaml").functions.items())


@pytest.fixture(scope="module")
def staged(database_url: str) -> Iterator[tuple[stage.People, dict[str, str]]]:
    """The local services and seeded people, shared by every function's probe."""
    from bench.social_seed import projected_at_publish

    truncate_all(database_url)
    saved = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = database_url
    reset_settings()
    db.close()
    try:
        with stage.services() as services, projected_at_publish():
            yield stage.seed(), child_environment(services)
    finally:
        db.close()
        if saved is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = saved
        reset_settings()


def first_request_after_hooks(name: str, handler: str, people: stage.People, env: dict[str, str]) -> dict[str, Any]:
    # In Lambda the function's name is set (shared/snapstart.py primes eagerly only there); here
    # the priming must come from the hooks alone.
    env = {k: v for k, v in env.items() if k != "AWS_LAMBDA_FUNCTION_NAME"}
    return probe(name, handler, people, env, snapstart=True)


def probe(name: str, handler: str, people: stage.People, env: dict[str, str], *, snapstart: bool) -> dict[str, Any]:
    _, event, expect = events.EVENTS[name]
    spec = {"handler": handler, "snapstart": snapstart, "events": [event(people)], "expect": expect}
    done = subprocess.run(  # noqa: S603 - our own interpreter and probe
        [sys.executable, str(PROBE)], input=json.dumps(spec), env=env, capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "priming failed" not in done.stdout + done.stderr, done.stdout[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@pytest.mark.parametrize(("name", "handler"), [(n, fn.handler) for n, fn in FUNCTIONS], ids=[n for n, _ in FUNCTIONS])
def test_the_first_request_after_the_before_snapshot_hooks_imports_no_module(
    staged: tuple[stage.People, dict[str, str]], name: str, handler: str
) -> None:
    # Given the function's handler imported and its before-snapshot hooks run, in a fresh interpreter
    people, env = staged

    # When the after-restore hooks run and its most common event is handled
    out = first_request_after_hooks(name, handler, people, env)

    # Then the prime succeeded, and the request imported nothing: everything it needs is in the snapshot
    assert out["imported_by_first"] == []


@pytest.mark.parametrize(("name", "handler"), [(n, fn.handler) for n, fn in FUNCTIONS], ids=[n for n, _ in FUNCTIONS])
def test_an_on_demand_init_primes_without_failing(
    staged: tuple[stage.People, dict[str, str]], name: str, handler: str
) -> None:
    # Given a fresh interpreter set up as Lambda's on-demand init (the function's name set): the
    # prime runs while the handler's module is imported, at its decorator, not in a hook later
    people, env = staged
    env = {**env, "AWS_LAMBDA_FUNCTION_NAME": name, "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand"}

    # When the handler is imported and its most common event handled
    out = probe(name, handler, people, env, snapstart=False)

    # Then the prime did not fail (what it calls was defined by then), and the request imported nothing
    assert out["imported_by_first"] == []
