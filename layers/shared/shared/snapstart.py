"""SnapStart's runtime hooks, and the priming every function shares.

SnapStart snapshots a function after its init; a restored environment starts from that snapshot.
What the first request builds (boto3 clients and their service models, keys, command registries)
is then paid after every restore, unless it was built before the snapshot. So each function has a
``prime()`` (see docs/architecture.md, Cold starts and SnapStart): it is registered as a before-snapshot hook
and, where every request needs it, also run at once by an on-demand init (the no-SnapStart path:
that init runs just before the first request, which would pay the same work). It is idempotent.

After a restore, what must not be shared by every environment restored from one snapshot is
refreshed: pooled connections (dead anyway), the ``random`` module's state, and caches keyed on
``time.monotonic()`` (whose origin a restore moves); each owner registers its own hook here.

The hooks come from AWS's ``snapshot-restore-py``, which the Lambda Python runtime provides (so it
is not in the layer's requirements); locally it is absent, and registering only records the hook.
``run_before_snapshot`` and ``run_after_restore`` run the recorded hooks as the runtime would (the
benchmark and tests use them).
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from functools import wraps
from typing import Any

try:  # provided by the Lambda Python runtime, absent elsewhere
    from snapshot_restore_py import register_after_restore as _runtime_after_restore
    from snapshot_restore_py import register_before_snapshot as _runtime_before_snapshot
except ImportError:  # pragma: no cover - depends on the runtime
    _runtime_after_restore = _runtime_before_snapshot = None

Hook = Callable[[], None]
_before: list[Hook] = []
_after: list[Hook] = []


def before_snapshot(hook: Hook) -> Hook:
    """Run ``hook`` before Lambda takes the snapshot (a decorator)."""
    _before.append(hook)
    if _runtime_before_snapshot is not None:
        _runtime_before_snapshot(hook)
    return hook


def after_restore(hook: Hook) -> Hook:
    """Run ``hook`` when an environment is restored from the snapshot (a decorator)."""
    _after.append(hook)
    if _runtime_after_restore is not None:
        _runtime_after_restore(hook)
    return hook


def run_before_snapshot() -> None:
    """The before-snapshot hooks, in the runtime's order (the reverse of registration)."""
    for hook in reversed(_before):
        hook()


def run_after_restore() -> None:
    """The after-restore hooks, in the runtime's order (registration)."""
    for hook in _after:
        hook()


def in_lambda() -> bool:
    """Whether this is a Lambda environment's init (not a test, the local stack or a script)."""
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))


def snapshot_init() -> bool:
    """Whether this init ends in a snapshot (Lambda says so: ``AWS_LAMBDA_INITIALIZATION_TYPE``)."""
    return os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "snap-start"


def prime(*, eager: bool = True) -> Callable[[Hook], Hook]:
    """Make ``fn`` a function's prime: run once, before the snapshot and, if ``eager``, at an
    on-demand init in Lambda (an init that ends in a snapshot leaves it to the hook; tests and the
    local stack import handlers in processes where nothing is configured yet: they prime through
    ``run_before_snapshot``).

    Priming never fails an init: what it could not build is built by the first request, as before.
    """

    def decorate(fn: Hook) -> Hook:
        done: list[bool] = []

        @wraps(fn)
        def once() -> None:
            if done:
                return
            done.append(True)
            try:
                fn()
            except Exception:
                from shared.observability import logger

                logger.warning("priming failed; the first request builds what is missing", exc_info=True)

        before_snapshot(once)
        if eager and in_lambda() and not snapshot_init():
            once()
        return once

    return decorate


def exercise(client: Any, calls: dict[str, dict[str, Any]]) -> None:
    """Run ``calls`` (operation name → parameters) through a boto3 client without sending them.

    Each call goes through what a real one does (parameter validation, serialization, endpoint
    resolution, credentials and signing, response parsing) and gets an empty answer just before
    the network, so the operation's models and the modules it imports lazily are loaded.
    """
    import encodings.idna  # noqa: F401 - what a first connection encodes its host name with

    from botocore.awsrequest import AWSResponse

    class _Raw:
        def stream(self, **_: Any) -> Any:
            yield b"{}"

    def answer(request: Any, **_: Any) -> AWSResponse:
        return AWSResponse(request.url, 200, {"Content-Type": "application/x-amz-json-1.0"}, _Raw())

    events = client.meta.events
    events.register_first("before-send", answer, unique_id="snapstart-exercise")
    try:
        for operation, parameters in calls.items():
            client._make_api_call(operation, parameters)
    finally:
        events.unregister("before-send", unique_id="snapstart-exercise")


@after_restore
def _reseed() -> None:
    """Every environment restored from one snapshot would draw the same ``random`` numbers."""
    random.seed()
