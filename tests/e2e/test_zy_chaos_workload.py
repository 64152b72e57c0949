"""``make chaos``'s building blocks on the session's stack, without the kills: one client's seeded
workload, then every end check. (``make chaos`` itself is not part of ``make test``: it takes
minutes.) Named ``zy`` so its broadcasts and asset land after the other flows, before ``zz``'s verify."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import psycopg

from infra.chaos import checks
from infra.chaos.__main__ import create_asset, wallets
from infra.chaos.workload import Spec, Workload
from tests.support.stores import inside


def bootstrap_admin(stores: dict[str, str]) -> tuple[str, str]:
    """A platform admin of its own, made as the stack's bootstrap makes one (the session's root
    admin may be deactivated by then: the fuzzing signs in as it and may call DELETE /v1/entities/me)."""
    from oxygen.logic import ensure_admin

    handle, password = f"chaos_{uuid.uuid4().hex[:8]}", "chaos e2e admin password"
    with inside(stores):
        ensure_admin(handle, password)
    return handle, password


def test_a_chaos_client_s_workload_passes_every_end_check_of_a_chaos_run(
    stack_url: str, stack_stores: dict[str, str], tmp_path: Path
) -> None:
    # Given an admin, and the chaos run's asset on the session's stack
    admin = bootstrap_admin(stack_stores)
    create_asset(stack_url, admin)

    # When one chaos client runs a short seeded workload (every kind of operation, with a seed that draws them all)
    done = Workload(Spec(0, stack_url, 11, 40, uuid.uuid4().hex[:6], *admin)).run()

    # Then every request was acknowledged at once and every end check passes
    assert (done["stats"]["retries"], done["stats"]["lost"], done["stats"]["unexpected"]) == (0, 0, [])
    expected = checks.merged([done["expected"]])
    assert all(expected[kind] for kind in ("distributions", "broadcasts", "members", "messages", "transfers"))
    stores = {"DATABASE_URL": stack_stores["database_url"], "DYNAMODB_ENDPOINT": stack_stores["dynamodb_endpoint"]}
    env = {**os.environ, **stores, "LOCAL_STATE_DIR": str(tmp_path)}  # `make verify` with `make run`'s environment
    verified, _ = checks.verify(env)
    with psycopg.connect(stack_stores["database_url"], autocommit=True) as conn:
        found = [
            checks.acknowledged_present(conn, expected),
            checks.ledger(conn),
            checks.derived_writes(conn),
            verified,
            checks.read_side(conn, wallets(stack_url, done["people"])),
        ]
        assert checks.duplicates(conn, expected) == 0
    assert [(c.name, c.passed, c.details) for c in found] == [(c.name, True, []) for c in found]
