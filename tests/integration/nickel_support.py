"""Helpers for Nickel's integration tests: calls through the real handlers and the ledger's invariants."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

from shared.context import Caller
from tests.integration.social_support import Answer, _call
from tests.support.streams import StreamDriver

UNKNOWN = "7b0c7d4e-3a43-4e5e-9d1b-3f6e2a1c0b9a"


def nickel(stack: StreamDriver, method: str, path: str, caller: Caller | None, **kwargs: Any) -> Answer:
    """A write through Nickel's handler, then the change feed drained to the read side."""
    answer = _call("nickel.app", method, path, caller, **kwargs)
    stack.drain()
    return answer


def new_asset(stack: StreamDriver, admin: Caller, code: str = "USD", scale: int = 2) -> dict[str, Any]:
    answer = nickel(stack, "POST", "/v1/assets", admin, body={"code": code, "name": f"{code} coin", "scale": scale})
    assert answer.status == 201, answer.body
    return answer.body  # type: ignore[no-any-return]


def issue(stack: StreamDriver, admin: Caller, to: Caller, amount: int, code: str = "USD", **kwargs: Any) -> Answer:
    body = {"to": str(to.entity_id), "amount": amount}
    return nickel(stack, "POST", f"/v1/assets/{code}/issue", admin, body=body, **kwargs)


def pay(
    stack: StreamDriver,
    sender: Caller,
    to: Caller | str,
    amount: Any,
    code: str = "USD",
    key: str | None = None,
    **extra: Any,
) -> Answer:
    target = to if isinstance(to, str) else str(to.entity_id)
    headers = {"Idempotency-Key": key or str(uuid.uuid4())}
    body = {"to": target, "asset": code, "amount": amount, **extra}
    return nickel(stack, "POST", "/v1/transfers", sender, body=body, headers=headers)


def redeem(stack: StreamDriver, holder: Caller, amount: int, code: str = "USD", **kwargs: Any) -> Answer:
    return nickel(stack, "POST", f"/v1/assets/{code}/redeem", holder, body={"amount": amount}, **kwargs)


def ledger_balances(url: str, code: str = "USD") -> dict[Any, int]:
    """Every account's balance of the asset, by owner (None: the issuer side)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT owner_id, balance FROM ledger_accounts WHERE asset = %s", (code,)).fetchall()
    return dict(rows)


def assert_ledger_consistent(url: str) -> None:
    """Conservation and non-negativity, and the balances equal a replay of the journal."""
    with psycopg.connect(url) as conn:
        negative = conn.execute("SELECT count(*) FROM ledger_accounts WHERE owner_id IS NOT NULL AND balance < 0")
        assert negative.fetchone() == (0,)
        unbalanced = conn.execute(
            "SELECT asset FROM ledger_accounts GROUP BY asset HAVING sum(balance) <> 0"
        ).fetchall()
        assert unbalanced == []
        supply = conn.execute(
            "SELECT a.asset, sum(a.balance) FILTER (WHERE a.owner_id IS NOT NULL),"
            " coalesce((SELECT sum(amount) FROM transfers t WHERE t.asset = a.asset AND kind = 'issue'), 0)"
            " - coalesce((SELECT sum(amount) FROM transfers t WHERE t.asset = a.asset AND kind = 'redeem'), 0)"
            " FROM ledger_accounts a GROUP BY a.asset"
        ).fetchall()
        for asset, held, issued_less_redeemed in supply:
            assert (held or 0) == issued_less_redeemed, asset
        replay = conn.execute(
            "SELECT a.id, a.balance, coalesce((SELECT sum(amount) FROM transfers WHERE credit_account = a.id), 0)"
            " - coalesce((SELECT sum(amount) FROM transfers WHERE debit_account = a.id), 0) FROM ledger_accounts a"
        ).fetchall()
        assert [(i, b) for i, b, _ in replay] == [(i, r) for i, _, r in replay]
