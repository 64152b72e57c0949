"""Helpers for Nickel's integration tests: calls through the real handlers and the ledger's invariants."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

from infra.chaos.checks import SUPPLY
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


def keyed(key: str | None) -> dict[str, str]:
    return {"Idempotency-Key": key or str(uuid.uuid4())}


def hold(
    stack: StreamDriver,
    payer: Caller,
    payee: Caller | str,
    amount: Any,
    code: str = "USD",
    key: str | None = None,
    **extra: Any,
) -> Answer:
    """``POST /v1/holds``: the payer reserves ``amount`` for the payee."""
    target = payee if isinstance(payee, str) else str(payee.entity_id)
    body = {"to": target, "asset": code, "amount": amount, **extra}
    return nickel(stack, "POST", "/v1/holds", payer, body=body, headers=keyed(key))


def capture(
    stack: StreamDriver, payee: Caller, hold_id: str, amount: int | None = None, key: str | None = None
) -> Answer:
    """``POST /v1/holds/{id}/capture`` (the whole hold when ``amount`` is None)."""
    body = {} if amount is None else {"amount": amount}
    return nickel(stack, "POST", f"/v1/holds/{hold_id}/capture", payee, body=body, headers=keyed(key))


def void(stack: StreamDriver, party: Caller, hold_id: str, **kwargs: Any) -> Answer:
    return nickel(stack, "POST", f"/v1/holds/{hold_id}/void", party, **kwargs)


def reverse(
    stack: StreamDriver, admin: Caller, transfer_id: str, reason: str = "sent by mistake", key: str | None = None
) -> Answer:
    body = {"reason": reason}
    return nickel(stack, "POST", f"/v1/transfers/{transfer_id}/reverse", admin, body=body, headers=keyed(key))


def let_expire(url: str, hold_id: Any) -> None:
    """Let a hold's time pass: move its ``expires_at`` to just after its creation, in the past.

    The holds' triggers refuse such an edit (a hold changes only by resolving it), so this test-only
    shortcut turns them off for its own session (``session_replication_role``, a superuser setting);
    the CHECK constraints still apply.
    """
    with psycopg.connect(url) as conn:
        conn.execute("SET session_replication_role = replica")
        moved = conn.execute(
            "UPDATE holds SET expires_at = created_at + interval '1 microsecond' WHERE id = %s AND status = 'pending'",
            (hold_id,),
        )
        assert moved.rowcount == 1, "no pending hold to let expire"


def ledger_balances(url: str, code: str = "USD") -> dict[Any, int]:
    """Every account's balance of the asset, by owner (None: the issuer side)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT owner_id, balance FROM ledger_accounts WHERE asset = %s", (code,)).fetchall()
    return dict(rows)


def assert_ledger_consistent(where: str | psycopg.Connection) -> None:
    """Conservation and non-negativity (of balances and of available value), the balances equal a
    replay of the journal, and what is held equals the sum of the pending holds (checked on a
    database URL, or on an open connection)."""
    if isinstance(where, str):
        with psycopg.connect(where) as opened:
            assert_ledger_consistent(opened)
        return
    conn = where
    negative = conn.execute(
        "SELECT count(*) FROM ledger_accounts"
        " WHERE owner_id IS NOT NULL AND (balance < 0 OR held < 0 OR held > balance)"
    )
    assert negative.fetchone() == (0,)
    unbalanced = conn.execute("SELECT asset FROM ledger_accounts GROUP BY asset HAVING sum(balance) <> 0").fetchall()
    assert unbalanced == []
    # Issued - redeemed = the holders' sum: what left the issuer side less what came back to it
    # (issues and reversed redemptions, less redemptions and reversed issues).
    for asset, owned, issued_less_redeemed in conn.execute(SUPPLY).fetchall():
        assert owned == issued_less_redeemed, asset
    held = conn.execute(
        "SELECT a.id, a.held, coalesce((SELECT sum(amount) FROM holds h"
        "   WHERE h.debit_account = a.id AND h.status = 'pending'), 0) FROM ledger_accounts a"
    ).fetchall()
    assert [(i, h) for i, h, _ in held] == [(i, p) for i, _, p in held]
    replay = conn.execute(
        "SELECT a.id, a.balance, coalesce((SELECT sum(amount) FROM transfers WHERE credit_account = a.id), 0)"
        " - coalesce((SELECT sum(amount) FROM transfers WHERE debit_account = a.id), 0) FROM ledger_accounts a"
    ).fetchall()
    assert [(i, b) for i, b, _ in replay] == [(i, r) for i, _, r in replay]


def expire_in(url: str, hold_id: Any, seconds: float) -> None:
    """Move a pending hold's ``expires_at`` to ``seconds`` from now by the database's clock (0: now);
    a test-only edit, as ``let_expire``."""
    with psycopg.connect(url) as conn:
        conn.execute("SET session_replication_role = replica")
        moved = conn.execute(
            "UPDATE holds SET expires_at = clock_timestamp() + make_interval(secs => %s)"
            " WHERE id = %s AND status = 'pending'",
            (seconds, hold_id),
        )
        assert moved.rowcount == 1, "no pending hold to move"
