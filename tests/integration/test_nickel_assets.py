"""Nickel's assets through the real handlers: created by platform admins, listed and read by anyone."""

from __future__ import annotations

import psycopg

from tests.integration.nickel_support import new_asset, nickel
from tests.integration.social_support import person, read
from tests.support.streams import StreamDriver


def test_a_platform_admin_creates_an_asset_that_everyone_can_read(stack: StreamDriver) -> None:
    admin, anyone = person(stack, frozenset({"admin"})), person(stack)
    answer = nickel(stack, "POST", "/v1/assets", admin, body={"code": "EUR.X", "name": "Euro", "scale": 2})
    assert answer.status == 201, answer.body
    assert answer.header("X-Write-Version")
    assert set(answer.body) == {"code", "name", "scale", "created_at"}
    assert (answer.body["code"], answer.body["name"], answer.body["scale"]) == ("EUR.X", "Euro", 2)
    assert read("/v1/assets/EUR.X", anyone).body == answer.body
    assert read("/v1/assets", anyone).body == {"items": [answer.body], "next_cursor": None}


def test_only_platform_admins_may_create_assets(stack: StreamDriver, postgres: str) -> None:
    user = person(stack, frozenset({"issuer"}))
    refused = nickel(stack, "POST", "/v1/assets", user, body={"code": "GOLD", "name": "Gold", "scale": 0})
    assert (refused.status, refused.body["code"]) == (403, "forbidden")
    with psycopg.connect(postgres) as conn:
        assert conn.execute("SELECT count(*) FROM assets").fetchone() == (0,)


def test_a_taken_asset_code_is_409_and_keeps_the_first_asset(stack: StreamDriver) -> None:
    admin = person(stack, frozenset({"admin"}))
    first = new_asset(stack, admin, "GOLD", scale=3)
    again = nickel(stack, "POST", "/v1/assets", admin, body={"code": "GOLD", "name": "Other", "scale": 0})
    assert (again.status, again.body["code"]) == (409, "conflict")
    assert read("/v1/assets/GOLD", admin).body == first


def test_invalid_asset_bodies_are_400(stack: StreamDriver) -> None:
    admin = person(stack, frozenset({"admin"}))
    for body in (
        {"code": "usd", "name": "lower", "scale": 2},
        {"code": "-USD", "name": "dash first", "scale": 2},
        {"code": "A" * 33, "name": "too long", "scale": 2},
        {"code": "USD", "name": "", "scale": 2},
        {"code": "USD", "name": "x" * 101, "scale": 2},
        {"code": "USD", "name": "Dollar", "scale": 19},
        {"code": "USD", "name": "Dollar", "scale": -1},
        {"code": "USD", "name": "Dollar", "scale": "2"},
        {"code": "USD", "name": "Dollar", "scale": 2.5},
        {"code": "USD", "name": "Dollar"},
        {"code": "USD", "name": "Dollar", "scale": 2, "extra": 1},
    ):
        answer = nickel(stack, "POST", "/v1/assets", admin, body=body)
        assert (answer.status, answer.body["code"]) == (400, "invalid_request"), body
    assert nickel(stack, "POST", "/v1/assets", admin, body={"code": "A" * 32, "name": "n", "scale": 18}).status == 201
    assert nickel(stack, "POST", "/v1/assets", admin, body={"code": "0", "name": "n", "scale": 0}).status == 201


def test_an_unknown_asset_is_404(stack: StreamDriver) -> None:
    anyone = person(stack)
    for code in ("NOPE", "lower", "X" * 200):
        answer = read(f"/v1/assets/{code}", anyone)
        assert (answer.status, answer.body["code"]) == (404, "not_found"), code


def test_assets_are_listed_by_code_in_stable_pages(stack: StreamDriver) -> None:
    admin = person(stack, frozenset({"admin"}))
    for code in ("CCC", "AAA", "BBB", "DDD", "EEE"):
        new_asset(stack, admin, code)
    seen: list[str] = []
    cursor: str | None = None
    while True:
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = read("/v1/assets", admin, query=query)
        assert page.status == 200, page.body
        seen += [a["code"] for a in page.body["items"]]
        cursor = page.body["next_cursor"]
        if cursor is None:
            break
    assert seen == ["AAA", "BBB", "CCC", "DDD", "EEE"]
    bad = read("/v1/assets", admin, query={"cursor": "not-a-cursor"})
    assert (bad.status, bad.body["code"]) == (400, "invalid_request")
