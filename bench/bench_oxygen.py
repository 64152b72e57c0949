"""Oxygen's costs: one Argon2id hash, a login, a refresh, issuing and verifying an access token.

Login and refresh go through the real Oxygen handler with a built API Gateway event, Fluorine
in-process, the benchmark's PostgreSQL and moto in-process for the change feed and the read cache.
A login answers once the read side knows its new session and its entity (a strongly consistent
read of the read cache); here the projection is applied when Fluorine publishes (no stream lag:
that is bench_pipeline's figure), so the figure is the login's own work. Login is bounded
by Argon2id on purpose; the unknown-login figure shows it costs the same as a known one.
"""

from __future__ import annotations

import json
import statistics
import uuid
from datetime import UTC, datetime
from typing import Any

from bench.harness import BenchEnv, Figure, sized, summary, timed
from bench.social_seed import project, projected_at_publish
from tests.support.aws import moto_tables
from tests.support.events import FakeContext, api_event

LOGINS = sized(25, 2)
VERIFICATIONS = sized(2000, 20)
HASHES = sized(10, 2)
REFRESHES = sized(100, 3)


def _login(handle: str, password: str, expect: int = 200) -> dict[str, Any]:
    """The handler's answer to a login, which must be ``expect`` (a 500 timed is not a login)."""
    from oxygen.app import handler

    answer = handler(api_event("POST", "/v1/auth/token", body={"login": handle, "password": password}), FakeContext())
    if answer["statusCode"] != expect:
        raise RuntimeError(f"login answered {answer['statusCode']}, not {expect}: {answer['body']}")
    return answer  # type: ignore[no-any-return]


def _argon2(figures: list[Figure]) -> float:
    from oxygen.passwords import hash_password, verify_password

    hashed = summary(timed(lambda: hash_password("a benchmark password"), repeat=HASHES, warmup=1))
    figures.append(Figure("oxygen.argon2id_hash_p50", hashed["p50"], "ms", note="m=19 MiB, t=2, p=1"))
    verify = summary(timed(lambda: verify_password("a benchmark password", None), repeat=HASHES, warmup=1))
    return verify["p50"]


def _logins(figures: list[Figure], argon2_verify_ms: float) -> str:
    from tests.support.factories import PASSWORD, register_entity

    state, registered = register_entity(handle=f"bench_{uuid.uuid4().hex[:8]}")
    project(registered.records)  # what the change feed's projector does: the read side knows it
    ok = summary(timed(lambda: _login(state.handle, PASSWORD), repeat=LOGINS))
    baseline = ("one Argon2id verification", argon2_verify_ms)
    figures.append(Figure("oxygen.login_p50", ok["p50"], "ms", *baseline))
    figures.append(Figure("oxygen.login_p99", ok["p99"], "ms", *baseline))
    figures.append(Figure("oxygen.login_per_second_one_core", 1000 / ok["p50"], "req/s"))
    # Failures: one attempt per login (throttling would answer 429 after 5 for one login).
    # Interleaved, so load from anything else on the machine hits both alike.
    victims = iter([register_entity()[0].handle for _ in range(LOGINS + 3)])
    wrong_samples: list[float] = []
    unknown_samples: list[float] = []
    for _ in range(LOGINS):
        wrong_samples += timed(lambda: _login(next(victims), "not the password", 401), repeat=1, warmup=0)
        unknown_samples += timed(lambda: _login(f"ghost_{uuid.uuid4().hex[:8]}", PASSWORD, 401), repeat=1, warmup=0)
    wrong, unknown = summary(wrong_samples), summary(unknown_samples)
    figures.append(Figure("oxygen.wrong_password_login_p50", wrong["p50"], "ms"))
    figures.append(Figure("oxygen.unknown_login_p50", unknown["p50"], "ms", "wrong password p50", wrong["p50"]))
    return json.loads(_login(state.handle, PASSWORD)["body"])["refresh_token"]  # type: ignore[no-any-return]


def _refreshes(figures: list[Figure], refresh_token: str) -> None:
    from oxygen.app import handler

    current = [refresh_token]

    def rotate() -> None:
        event = api_event("POST", "/v1/auth/refresh", body={"refresh_token": current[0]})
        answer = handler(event, FakeContext())
        if answer["statusCode"] != 200:
            raise RuntimeError(f"refresh answered {answer['statusCode']}: {answer['body']}")
        current[0] = json.loads(answer["body"])["refresh_token"]

    figures.append(Figure("oxygen.refresh_p50", summary(timed(rotate, repeat=REFRESHES))["p50"], "ms"))


def _tokens(figures: list[Figure]) -> None:
    from shared.auth.authorizer import authorize
    from shared.auth.tokens import issue_access_token, verify_access_token
    from shared.contracts.oxygen import EntityState
    from shared.contracts.oxygen_auth import SessionState

    entity, session = uuid.uuid4(), uuid.uuid4()
    token, _ = issue_access_token(entity, "real", ["admin"], session_id=str(session))
    issue = timed(lambda: issue_access_token(entity, "real", ["admin"]), repeat=VERIFICATIONS)
    verify = timed(lambda: verify_access_token(token), repeat=VERIFICATIONS)
    event = {"authorizationToken": f"Bearer {token}", "methodArn": "arn:aws:execute-api:r:a:api/dev/GET/x"}
    holder = (
        EntityState(
            id=entity, kind="real", handle="bench", display_name="Bench", created_at=datetime.now(UTC), version=1
        ),
        SessionState(id=session, entity_id=entity, revoked=False, version=1),
    )
    policy = timed(lambda: authorize(event, lambda _entity, _session: holder), repeat=VERIFICATIONS)
    figures.append(Figure("oxygen.issue_access_token_p50", statistics.median(issue) * 1000, "us"))
    figures.append(Figure("oxygen.verify_access_token_p50", statistics.median(verify) * 1000, "us"))
    figures.append(
        Figure(
            "oxygen.authorizer_policy_p50",
            statistics.median(policy) * 1000,
            "us",
            note="verification + policy, without the read-cache status lookup",
        )
    )


def run(env: BenchEnv) -> list[Figure]:
    figures: list[Figure] = []
    verify_ms = _argon2(figures)
    with moto_tables(), projected_at_publish():
        refresh_token = _logins(figures, verify_ms)
        _refreshes(figures, refresh_token)
    _tokens(figures)
    return figures
