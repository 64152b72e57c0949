"""The local stack as ``make run`` runs it, for the benchmarks that measure it from outside."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def local_stack(database_url: str, admin: tuple[str, str], name: str) -> Iterator[str]:
    """A child ``python -m infra.local`` on ``database_url`` with its own DynamoDB (found through
    the stack's record, as ``make verify`` finds it), and this process's clients pointed at that
    DynamoDB and at the stack's ``@connections`` API; yields the stack's base URL."""
    from infra.chaos.stack import StackProcess, stack_environment
    from infra.local import stores
    from infra.local.services import free_port
    from shared.aws import reset_clients
    from shared.settings import reset_settings

    state = Path(tempfile.mkdtemp(prefix=f"elements-bench-{name}-"))
    stack = StackProcess(free_port(), stack_environment(database_url, state, admin), state / "stack.log")
    stack.start()
    try:
        found = stores.locate(state, {"DATABASE_URL": database_url})
        assert isinstance(found, stores.Stores), found
        os.environ.update(DYNAMODB_ENDPOINT=found.dynamodb_endpoint, REALTIME_ENDPOINT=stack.url)
        reset_settings()
        reset_clients()
        yield stack.url
    finally:
        stack.stop()
        for variable in ("DYNAMODB_ENDPOINT", "REALTIME_ENDPOINT"):
            os.environ.pop(variable, None)
        reset_settings()
        reset_clients()
