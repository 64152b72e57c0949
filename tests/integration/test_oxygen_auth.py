"""Oxygen's token routes against the real handlers: login, throttling, refresh, logout, JWKS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from oxygen import sessions
from shared.auth.tokens import verify_access_token
from tests.integration.oxygen_support import PASSWORD, authorize, caller_of, login, oxygen, register
from tests.support.events import response_header, response_json
from tests.support.streams import StreamDriver

T0 = datetime.now(UTC).replace(microsecond=0)  # tokens it issues must be valid now
REAL_AWAIT_READ_SIDE = sessions.await_read_side


@pytest.fixture(autouse=True)
def read_side(stack: StreamDriver, monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """Stand in for the stream mapping while Oxygen waits for the read side: drain the feed, then really wait."""
    waited: list[str | None] = []

    def drain_then_wait(version: str | None, what: str) -> None:
        waited.append(version)
        stack.drain()
        REAL_AWAIT_READ_SIDE(version, what)

    monkeypatch.setattr(sessions, "await_read_side", drain_then_wait)
    return waited


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """A settable clock for Oxygen's sessions (``now[0] = ...`` moves time)."""
    now = [T0]
    monkeypatch.setattr(sessions, "clock", lambda: now[0])
    return now


def test_login_by_handle_returns_a_bearer_pair_whose_access_token_names_the_entity(stack: StreamDriver) -> None:
    # Given a registered entity
    entity = register(stack)
    # When it logs in with its handle
    response = login(entity.handle)
    # Then it gets a Bearer pair, not to be cached
    assert response["statusCode"] == 200
    pair = response_json(response)
    assert set(pair) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert pair["token_type"] == "Bearer"
    assert pair["expires_in"] > 0
    assert response_header(response, "Cache-Control") == "no-store"
    claims = verify_access_token(pair["access_token"])
    assert claims.sub == entity.id
    assert claims.kind == entity.kind
    assert claims.sid
    assert authorize(pair["access_token"])["principalId"] == str(entity.id)


def test_login_by_email_is_case_insensitive(stack: StreamDriver) -> None:
    entity = register(stack, email="Mixed.Case@Example.org")
    response = login("MIXED.case@example.ORG")
    assert response["statusCode"] == 200
    assert verify_access_token(response_json(response)["access_token"]).sub == entity.id


def test_unknown_login_and_wrong_password_answer_the_same_401(stack: StreamDriver) -> None:
    entity = register(stack)
    wrong = login(entity.handle, "not the right password")
    unknown = login("nobody_here", PASSWORD)
    assert wrong["statusCode"] == unknown["statusCode"] == 401
    strip = lambda r: {k: v for k, v in response_json(r).items() if k != "request_id"}  # noqa: E731
    assert strip(wrong) == strip(unknown)
    assert strip(wrong)["code"] == "unauthorized"


def test_a_deactivated_entity_cannot_log_in(stack: StreamDriver, monkeypatch: pytest.MonkeyPatch) -> None:
    entity = register(stack)
    monkeypatch.setattr("oxygen.logic.await_read_side", lambda version: stack.drain())
    assert oxygen("DELETE", "/v1/entities/me", caller=caller_of(entity))["statusCode"] == 204
    assert login(entity.handle)["statusCode"] == 401


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"login": "someone"},
        {"password": PASSWORD},
        {"login": "", "password": PASSWORD},
        {"login": "someone", "password": ""},
        {"login": 12, "password": PASSWORD},
        {"login": "someone", "password": "x" * 129},
        {"login": "someone", "password": PASSWORD, "extra": 1},
        "not json",
        [],
    ],
)
def test_a_malformed_login_body_is_400(stack: StreamDriver, body: object) -> None:
    response = oxygen("POST", "/v1/auth/token", body=body)
    assert response["statusCode"] == 400
    assert response_json(response)["code"] == "invalid_request"


def test_five_failures_throttle_the_login_until_the_window_passes(stack: StreamDriver, clock: list[datetime]) -> None:
    # Given an entity whose login failed five times within 15 minutes
    entity = register(stack)
    for minute in range(5):
        clock[0] = T0 + timedelta(minutes=minute)
        assert login(entity.handle, "wrong password!")["statusCode"] == 401
    # When even the right password is tried a minute later
    clock[0] = T0 + timedelta(minutes=5)
    throttled = login(entity.handle)
    # Then it is refused with 429 and told when the window passes (the first failure + 15 min)
    assert throttled["statusCode"] == 429
    assert response_json(throttled)["code"] == "rate_limited"
    assert response_header(throttled, "Retry-After") == str(10 * 60)
    # And once the oldest failure leaves the window, the right password works again
    clock[0] = T0 + timedelta(minutes=15, seconds=1)
    assert login(entity.handle)["statusCode"] == 200


def test_failures_spread_beyond_the_window_do_not_throttle(stack: StreamDriver, clock: list[datetime]) -> None:
    entity = register(stack)
    for step in range(6):
        clock[0] = T0 + timedelta(minutes=4 * step)
        assert login(entity.handle, "wrong password!")["statusCode"] == 401
    assert login(entity.handle)["statusCode"] == 200


def test_unknown_logins_are_throttled_too_so_429_reveals_nothing(stack: StreamDriver, clock: list[datetime]) -> None:
    for _ in range(5):
        assert login("ghost_login", PASSWORD)["statusCode"] == 401
    assert login("ghost_login", PASSWORD)["statusCode"] == 429


def test_a_success_forgets_earlier_failures(stack: StreamDriver, clock: list[datetime]) -> None:
    entity = register(stack)
    for _ in range(4):
        login(entity.handle, "wrong password!")
    assert login(entity.handle)["statusCode"] == 200
    for _ in range(4):
        login(entity.handle, "wrong password!")
    assert login(entity.handle)["statusCode"] == 200


def test_refresh_rotates_the_pair_and_spends_the_old_refresh_token(stack: StreamDriver) -> None:
    entity = register(stack)
    first = response_json(login(entity.handle))
    # When the refresh token is exchanged
    response = oxygen("POST", "/v1/auth/refresh", body={"refresh_token": first["refresh_token"]})
    # Then a new pair comes back, in the same session
    assert response["statusCode"] == 200
    second = response_json(response)
    assert second["refresh_token"] != first["refresh_token"]
    old, new = verify_access_token(first["access_token"]), verify_access_token(second["access_token"])
    assert new.sub == entity.id
    assert new.sid == old.sid
    assert new.jti != old.jti
    # And the new refresh token works in turn
    third = oxygen("POST", "/v1/auth/refresh", body={"refresh_token": second["refresh_token"]})
    assert third["statusCode"] == 200


def test_reusing_a_spent_refresh_token_revokes_the_whole_session(stack: StreamDriver, clock: list[datetime]) -> None:
    # Given a session whose first refresh token was rotated
    entity = register(stack)
    first = response_json(login(entity.handle))
    second = response_json(oxygen("POST", "/v1/auth/refresh", body={"refresh_token": first["refresh_token"]}))
    # When the spent token is presented again after the grace (a stolen copy)
    clock[0] = T0 + timedelta(seconds=11)
    reused = oxygen("POST", "/v1/auth/refresh", body={"refresh_token": first["refresh_token"]})
    # Then it is refused, and the legitimate newer token is dead too
    assert reused["statusCode"] == 401
    assert oxygen("POST", "/v1/auth/refresh", body={"refresh_token": second["refresh_token"]})["statusCode"] == 401
    # And the session's access tokens are refused on the next request
    with pytest.raises(Exception, match="Unauthorized"):
        authorize(second["access_token"])
    # While another session of the same entity is untouched
    other = response_json(login(entity.handle))
    assert authorize(other["access_token"])["principalId"] == str(entity.id)


@pytest.mark.parametrize("token", ["never-issued", "x" * 512])
def test_an_unknown_refresh_token_is_401(stack: StreamDriver, token: str) -> None:
    response = oxygen("POST", "/v1/auth/refresh", body={"refresh_token": token})
    assert response["statusCode"] == 401
    assert response_json(response)["code"] == "unauthorized"


@pytest.mark.parametrize("body", [{}, {"refresh_token": ""}, {"refresh_token": 5}, {"refresh_token": "x" * 513}])
def test_a_malformed_refresh_body_is_400(stack: StreamDriver, body: object) -> None:
    assert oxygen("POST", "/v1/auth/refresh", body=body)["statusCode"] == 400


def test_an_expired_refresh_token_is_401(stack: StreamDriver, clock: list[datetime]) -> None:
    entity = register(stack)
    pair = response_json(login(entity.handle))
    clock[0] = T0 + timedelta(days=31)
    assert oxygen("POST", "/v1/auth/refresh", body={"refresh_token": pair["refresh_token"]})["statusCode"] == 401


def test_logout_revokes_that_session_only(stack: StreamDriver) -> None:
    entity = register(stack)
    ended, kept = response_json(login(entity.handle)), response_json(login(entity.handle))
    # When the entity logs out of one session
    response = oxygen(
        "POST", "/v1/auth/logout", caller=caller_of(entity), body={"refresh_token": ended["refresh_token"]}
    )
    # Then 204, that session's refresh token is dead and its access token refused; the other lives
    assert response["statusCode"] == 204
    assert not response.get("body")
    assert response_header(response, "X-Write-Version")
    assert oxygen("POST", "/v1/auth/refresh", body={"refresh_token": ended["refresh_token"]})["statusCode"] == 401
    with pytest.raises(Exception, match="Unauthorized"):
        authorize(ended["access_token"])
    assert oxygen("POST", "/v1/auth/refresh", body={"refresh_token": kept["refresh_token"]})["statusCode"] == 200


def test_logout_cannot_end_someone_elses_session_and_repeating_it_is_harmless(stack: StreamDriver) -> None:
    owner, intruder = register(stack), register(stack)
    pair = response_json(login(owner.handle))
    foreign = oxygen(
        "POST", "/v1/auth/logout", caller=caller_of(intruder), body={"refresh_token": pair["refresh_token"]}
    )
    assert foreign["statusCode"] == 204
    assert oxygen("POST", "/v1/auth/refresh", body={"refresh_token": pair["refresh_token"]})["statusCode"] == 200


def test_logout_needs_a_caller_and_a_body(stack: StreamDriver) -> None:
    entity = register(stack)
    assert oxygen("POST", "/v1/auth/logout", body={"refresh_token": "abc"})["statusCode"] == 401
    assert oxygen("POST", "/v1/auth/logout", caller=caller_of(entity), body={})["statusCode"] == 400


def test_jwks_publishes_the_signing_key_with_kid_kty_alg_use(stack: StreamDriver) -> None:
    entity = register(stack)
    token = response_json(login(entity.handle))["access_token"]
    response = oxygen("GET", "/.well-known/jwks.json")
    assert response["statusCode"] == 200
    keys = response_json(response)["keys"]
    assert keys
    assert all({"kid", "kty", "alg", "use"} <= set(k) for k in keys)
    assert keys[0]["kty"] == "EC"
    assert keys[0]["alg"] == "ES256"
    assert keys[0]["use"] == "sig"
    assert "x" in keys[0]
    import jwt

    assert jwt.get_unverified_header(token)["kid"] in {k["kid"] for k in keys}
    assert not any("d" in k for k in keys)


def test_refresh_tokens_are_stored_only_as_hashes(stack: StreamDriver, postgres: str) -> None:
    entity = register(stack)
    pair = response_json(login(entity.handle))
    with psycopg.connect(postgres) as conn:
        stored = [r[0] for r in conn.execute("SELECT token_hash FROM refresh_tokens")]
    assert stored == [sessions.token_hash(pair["refresh_token"])]
    assert pair["refresh_token"] not in stored


def test_a_slow_read_side_does_not_change_the_reuse_answer(
    stack: StreamDriver, monkeypatch: pytest.MonkeyPatch, clock: list[datetime]
) -> None:
    # Given a read side that never catches up (nothing drains the feed)
    monkeypatch.setattr(sessions, "READ_SIDE_WAIT_SECONDS", 0.05)
    monkeypatch.setattr(sessions, "await_read_side", REAL_AWAIT_READ_SIDE)
    entity = register(stack)
    first = response_json(login(entity.handle))
    oxygen("POST", "/v1/auth/refresh", body={"refresh_token": first["refresh_token"]})
    clock[0] = T0 + timedelta(seconds=30)
    # When the spent token comes back, Then the answer is still 401 (the revocation is committed)
    reused = oxygen("POST", "/v1/auth/refresh", body={"refresh_token": first["refresh_token"]})
    assert reused["statusCode"] == 401


def test_two_tabs_refreshing_at_once_stay_logged_in_within_the_grace(
    stack: StreamDriver, clock: list[datetime]
) -> None:
    # Given a session, and two tabs holding its refresh token
    entity = register(stack)
    pair = response_json(login(entity.handle))
    # When both refresh with it, the second 5 s after the first
    first_tab = oxygen("POST", "/v1/auth/refresh", body={"refresh_token": pair["refresh_token"]})
    clock[0] = T0 + timedelta(seconds=5)
    second_tab = oxygen("POST", "/v1/auth/refresh", body={"refresh_token": pair["refresh_token"]})
    # Then both get a new pair of the same session, and nothing is revoked: both new tokens work
    assert (first_tab["statusCode"], second_tab["statusCode"]) == (200, 200)
    one, two = response_json(first_tab), response_json(second_tab)
    assert verify_access_token(one["access_token"]).sid == verify_access_token(two["access_token"]).sid
    for tab in (one, two):
        assert authorize(tab["access_token"])["principalId"] == str(entity.id)
        assert oxygen("POST", "/v1/auth/refresh", body={"refresh_token": tab["refresh_token"]})["statusCode"] == 200


def test_five_failures_from_one_address_throttle_that_address_only(stack: StreamDriver, clock: list[datetime]) -> None:
    # Given five wrong passwords for one entity from 127.0.0.2, by handle and by email alike
    entity = register(stack, email="throttled@example.org")
    for n in range(5):
        login_name = entity.handle if n % 2 else "Throttled@Example.org"
        assert login(login_name, "wrong password!", source="127.0.0.2")["statusCode"] == 401
    # When the right password comes from that address and from another
    there = login(entity.handle, source="127.0.0.2")
    elsewhere = login(entity.handle, source="127.0.0.3")
    # Then that address is throttled for the entity (handle and email count together), the other is not
    assert there["statusCode"] == 429
    assert response_header(there, "Retry-After") == str(15 * 60)
    assert elsewhere["statusCode"] == 200


def test_an_unknown_login_is_throttled_like_a_known_one(stack: StreamDriver, clock: list[datetime]) -> None:
    for _ in range(5):
        assert login("nobody_at_all", "wrong password!", source="127.0.0.2")["statusCode"] == 401
    throttled = login("nobody_at_all", "wrong password!", source="127.0.0.2")
    assert (throttled["statusCode"], response_json(throttled)["code"]) == (429, "rate_limited")


def test_failures_from_every_address_past_the_account_bound_throttle_every_address(
    stack: StreamDriver, clock: list[datetime], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an account-wide bound of 6, and 6 failures from 3 addresses (2 each, under the per-address 5)
    monkeypatch.setattr(sessions, "MAX_ACCOUNT_FAILURES", 6)
    entity = register(stack)
    for n in range(6):
        assert login(entity.handle, "wrong password!", source=f"127.0.0.{2 + n % 3}")["statusCode"] == 401
    # When the right password comes from a fourth, clean address, Then it is throttled too
    assert login(entity.handle, source="127.0.0.9")["statusCode"] == 429


def test_a_password_change_ends_every_other_session_and_keeps_the_one_that_made_it(stack: StreamDriver) -> None:
    # Given an entity logged in twice
    entity = register(stack)
    other = response_json(login(entity.handle))
    mine = caller_of(entity)
    stack.drain()
    # When one session changes the password
    changed = oxygen(
        "PATCH",
        "/v1/entities/me",
        caller=mine,
        body={"password": "a brand new passphrase", "current_password": PASSWORD},
    )
    assert changed["statusCode"] == 200
    # Then the other session's access and refresh tokens stop working; the changing session's go on
    with pytest.raises(Exception, match="Unauthorized"):
        authorize(other["access_token"])
    assert oxygen("POST", "/v1/auth/refresh", body={"refresh_token": other["refresh_token"]})["statusCode"] == 401
    renamed = oxygen("PATCH", "/v1/entities/me", caller=mine, body={"display_name": "Still here"})
    assert renamed["statusCode"] == 200


def test_a_weaker_stored_hash_is_replaced_at_login(stack: StreamDriver, postgres: str) -> None:
    from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

    from oxygen.passwords import needs_rehash

    # Given an entity whose stored hash has older, weaker parameters
    entity = register(stack)
    weak = Argon2id(salt=b"0123456789abcdef", length=32, iterations=1, lanes=1, memory_cost=8192)
    with psycopg.connect(postgres) as conn:
        conn.execute(
            "UPDATE entities SET password_hash = %s WHERE id = %s",
            (weak.derive_phc_encoded(PASSWORD.encode()), entity.id),
        )
    # When it logs in with its password
    assert login(entity.handle)["statusCode"] == 200
    # Then the stored hash has today's parameters, and the password still works
    with psycopg.connect(postgres) as conn:
        stored = conn.execute("SELECT password_hash FROM entities WHERE id = %s", (entity.id,)).fetchone()[0]  # type: ignore[index]
    assert not needs_rehash(stored)
    assert login(entity.handle)["statusCode"] == 200


def test_the_sweeper_prunes_old_failures_and_expired_refresh_tokens_only(stack: StreamDriver, postgres: str) -> None:
    from fluorine import db, sweeper

    # Given a failure inside the window, one past it, a live refresh token and an expired one
    entity = register(stack)
    login(entity.handle, "wrong password!", source="127.0.0.2")  # (a success from 127.0.0.1 keeps it)
    response_json(login(entity.handle))
    with psycopg.connect(postgres) as conn:
        conn.execute(
            "INSERT INTO login_failures (login_key, source, failed_at) VALUES ('old', '', now() - interval '1 hour')"
        )
        session = conn.execute("SELECT id FROM auth_sessions LIMIT 1").fetchone()[0]  # type: ignore[index]
        conn.execute(
            "INSERT INTO refresh_tokens (token_hash, session_id, issued_at, expires_at)"
            " VALUES (repeat('e', 64), %s, now() - interval '40 days', now() - interval '10 days')",
            (session,),
        )
    # When the sweeper runs
    pruned = sweeper.prune(db.connection())
    # Then exactly the old failure and the expired token are gone
    assert (pruned["login_failures"], pruned["refresh_tokens"]) == (1, 1)
    with psycopg.connect(postgres) as conn:
        assert conn.execute("SELECT count(*) FROM login_failures").fetchone()[0] == 1  # type: ignore[index]
        assert conn.execute("SELECT count(*) FROM refresh_tokens").fetchone()[0] == 1  # type: ignore[index]
