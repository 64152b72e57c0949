"""After every other e2e flow (this module runs last: ``zz``), the stack's read cache has zero drift.

The test process points Francium's ``verify`` at the running stack's own PostgreSQL (through
Fluorine's ``LatestEvents``) and DynamoDB, the stores the conftest started for it.
"""

from __future__ import annotations

import time

import httpx

from tests.support.stores import inside

VERIFY_ATTEMPTS = 100  # the change feed is polled asynchronously: let the stack settle first
PAUSE = 0.2


def test_after_the_flows_the_stacks_read_cache_matches_the_latest_committed_events(
    client: httpx.Client, stack_stores: dict[str, str]
) -> None:
    # Given the e2e flows have written through the stack (and one more registration, so there is something)
    body = {"kind": "legal", "handle": "drift_check", "display_name": "Drift", "password": "x" * 14}
    assert client.post("/v1/entities", json=body).status_code in (201, 409)
    from francium import maintenance

    # When the read cache and the derived writes are verified against the truth, once the change feed has settled
    with inside(stack_stores):
        for _ in range(VERIFY_ATTEMPTS):
            found = maintenance.verify()
            if found["count"] == 0:
                break
            time.sleep(PAUSE)

    # Then there is no drift at all
    assert found["count"] == 0, found
    assert found["aggregates_checked"] > 0
