"""The drift check of the running stack's read cache and derived writes.

Francium's ``verify`` compares the stack's read cache (its DynamoDB) with the truth: the latest
committed event of each aggregate, which Fluorine's ``LatestEvents`` reads from its PostgreSQL,
and every derived write (a transfer's system message) against the events it derives from.
"""

from __future__ import annotations

from typing import Any

from tests.support.polling import wait_until
from tests.support.stores import inside


def assert_no_drift(stores: dict[str, str]) -> dict[str, Any]:
    """The stack's read cache matches the latest committed events, once the change feed settled."""
    from francium import maintenance

    with inside(stores):
        found: dict[str, Any] = wait_until(maintenance.verify, lambda f: f["count"] == 0, "no drift")
    assert found["aggregates_checked"] > 0
    return found
