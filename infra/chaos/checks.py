"""The end checks of a chaos run, against PostgreSQL (the truth) and through ``make verify``'s command.

Each check answers (passed, figure, details): the figure is what the report prints.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg

from shared.contracts.rhenium import transfer_message_id

ROOT = Path(__file__).resolve().parents[2]
VERIFY_SETTLE_SECONDS = 60  # the stack's change feed is delivered asynchronously: let it settle


@dataclass
class Check:
    name: str
    passed: bool
    figure: str
    details: list[str] = field(default_factory=list)


def merged(expectations: Iterable[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for expected in expectations:
        for key, value in expected.items():
            if isinstance(value, dict):
                out.setdefault(key, {}).update(value)
            else:
                out.setdefault(key, []).extend(value)
    return out


def acknowledged_present(conn: psycopg.Connection, expected: dict[str, Any]) -> Check:
    """Every write the stack acknowledged is in PostgreSQL, as acknowledged."""
    missing: list[str] = []

    def ids(table: str, wanted: list[str]) -> set[str]:
        rows = conn.execute(f"SELECT id::text FROM {table} WHERE id = ANY(%s::uuid[])", (wanted,))  # noqa: S608
        return {r[0] for r in rows}

    for table, key in (("entities", "entities"), ("messages", "messages"), ("groups", "groups")):
        found = ids(table, expected[key])
        missing += [f"{table}: {i}" for i in expected[key] if i not in found]
    transfers = {t["id"]: t for t in expected["transfers"]}
    rows = conn.execute(
        "SELECT id::text, to_entity::text, amount FROM transfers WHERE id = ANY(%s::uuid[])", (list(transfers),)
    )
    found_transfers = {r[0]: (r[1], r[2]) for r in rows}
    missing += [f"transfer: {i}" for i, t in transfers.items() if found_transfers.get(i) != (t["to"], t["amount"])]
    for d in expected["distributions"]:
        count = conn.execute(
            "SELECT count(*) FROM transfers WHERE kind = 'distribution' AND from_entity = %s AND amount = %s",
            (d["payer"], d["amount_each"]),
        ).fetchone()
        if count is None or count[0] != d["transfers"]:
            missing.append(f"distribution {d}: {count}")
    bodies = expected["broadcasts"]
    found_bodies = {r[0] for r in conn.execute("SELECT body FROM messages WHERE body = ANY(%s)", (bodies,))}
    missing += [f"broadcast: {b}" for b in bodies if b not in found_bodies]
    missing += memberships(conn, expected["members"])
    kinds = ("entities", "messages", "groups", "transfers", "distributions", "broadcasts", "members")
    total = sum(len(expected[k]) for k in kinds)
    return Check("every acknowledged write present", not missing, f"{total - len(missing)} of {total}", missing)


def memberships(conn: psycopg.Connection, members: dict[str, dict[str, Any]]) -> list[str]:
    wrong = []
    for pair, want in members.items():
        group, entity = pair.split(":")
        row = conn.execute(
            "SELECT left_at IS NULL, role FROM group_members WHERE group_id = %s AND entity_id = %s", (group, entity)
        ).fetchone()
        if row is None or row[0] != want["active"] or (want["active"] and row[1] != want["role"]):
            wrong.append(f"membership {pair}: want {want}, have {row}")
    return wrong


# Per asset: what holders own, and issued - redeemed (what left the issuer side less what came back).
SUPPLY = (
    "SELECT a.asset, coalesce(sum(a.balance) FILTER (WHERE a.owner_id IS NOT NULL), 0),"
    " coalesce((SELECT sum(t.amount) FROM transfers t JOIN ledger_accounts d ON d.id = t.debit_account"
    "   WHERE t.asset = a.asset AND d.owner_id IS NULL), 0)"
    " - coalesce((SELECT sum(t.amount) FROM transfers t JOIN ledger_accounts c ON c.id = t.credit_account"
    "   WHERE t.asset = a.asset AND c.owner_id IS NULL), 0)"
    " FROM ledger_accounts a GROUP BY a.asset"
)


def ledger(conn: psycopg.Connection) -> Check:
    """Conservation (every asset's accounts sum to zero: holders hold issued - redeemed) and no negative balance.

    Issued - redeemed is what left the issuer side less what came back to it: a reversal of an issue
    returns value to the issuer side, one of a redemption takes it out again.
    """
    negative = conn.execute("SELECT count(*) FROM ledger_accounts WHERE owner_id IS NOT NULL AND balance < 0")
    unbalanced = conn.execute("SELECT asset, sum(balance) FROM ledger_accounts GROUP BY asset HAVING sum(balance) <> 0")
    supply = conn.execute(SUPPLY).fetchall()
    negatives = negative.fetchone()
    problems = [f"negative balances: {negatives}"] if negatives != (0,) else []
    problems += [f"asset {a} sums to {s}" for a, s in unbalanced.fetchall()]
    problems += [f"asset {a}: holders {held} != issued - redeemed {net}" for a, held, net in supply if held != net]
    held = sum(int(s[1]) for s in supply)
    return Check("ledger conserved, no negative balance", not problems, f"{held} held = issued - redeemed", problems)


def derived_writes(conn: psycopg.Connection) -> Check:
    """Every transfer to an entity that is still active has its system message."""
    rows = conn.execute(
        "SELECT t.id FROM transfers t JOIN entities e ON e.id = t.to_entity AND e.status = 'active'"
    ).fetchall()
    wanted = {transfer_message_id(r[0]): r[0] for r in rows}
    found = {r[0] for r in conn.execute("SELECT id FROM messages WHERE id = ANY(%s)", (list(wanted),))}
    missing = [f"transfer {t}: no message {m}" for m, t in wanted.items() if m not in found]
    return Check("every derived write present", not missing, f"{len(found)} of {len(wanted)}", missing)


def duplicates(conn: psycopg.Connection, expected: dict[str, Any]) -> int:
    """Second copies written by retried requests of routes without an Idempotency-Key (at least once)."""
    bodies = conn.execute(
        "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM messages WHERE body = ANY(%s) GROUP BY body) b",
        (expected["broadcasts"],),
    ).fetchone()
    groups = conn.execute(
        "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM groups WHERE name = ANY(%s) GROUP BY name) g",
        (expected["group_names"],),
    ).fetchone()
    return int(bodies[0] if bodies else 0) + int(groups[0] if groups else 0)


def verify(env: dict[str, str]) -> tuple[Check, float]:
    """``make verify``'s command against the running stack, until the feed has settled; and how long that took."""
    started = time.monotonic()
    deadline = started + VERIFY_SETTLE_SECONDS
    while True:
        done = subprocess.run(
            [sys.executable, "-m", "infra.local.maintenance", "verify"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        report: dict[str, Any] = (
            json.loads(done.stdout) if done.stdout.strip() else {"count": None, "by_kind": done.stderr[-500:]}
        )
        if done.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(1)
    drift = [json.dumps(report.get("by_kind")), *map(str, report.get("drift", [])[:20])]
    details = [] if report["count"] == 0 else drift
    figure = f"{report['count']} drift ({report.get('aggregates_checked')} aggregates)"
    return Check("verify: 0 drift", report["count"] == 0, figure, details), time.monotonic() - started


def read_side(conn: psycopg.Connection, wallets: dict[str, list[dict[str, Any]]]) -> Check:
    """Each client's wallets as GET /v1/wallets/me answered them equal the ledger's balances."""
    wrong = []
    for entity, balances in wallets.items():
        rows = conn.execute(
            "SELECT asset, balance FROM ledger_accounts WHERE owner_id = %s AND balance <> 0", (UUID(entity),)
        )
        truth: dict[str, int] = dict(rows.fetchall())
        seen = {b["asset"]: b["amount"] for b in balances if b["amount"]}
        if seen != truth:
            wrong.append(f"{entity}: read {seen}, ledger {truth}")
    figure = f"{len(wallets) - len(wrong)} of {len(wallets)} wallets"
    return Check("reads agree with the ledger", not wrong, figure, wrong)
