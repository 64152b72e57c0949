"""One cold start, as Lambda runs it, in this fresh interpreter: ``python bench/coldstart_probe.py < spec.json``.

The spec (JSON on stdin) names the handler, whether the function uses SnapStart, and its events:
the first is the first invocation, the rest are warm ones. Printed (JSON, last line of stdout):

- ``init_ms``: importing the handler's module, its module-level work included (in Lambda, the
  function's eager prime): an on-demand init;
- ``snapshot_ms``: for a SnapStart function, its before-snapshot hooks (paid when a version is
  published, never by a user);
- ``first_ms``: for a SnapStart function its after-restore hooks, then the first invocation: what a
  user waits for after a restore (or after an on-demand init);
- ``warm_ms``: each warm invocation;
- ``imported_by_first``: the modules the first invocation imported (what a prime missed).

Nothing of the project is imported before the clock starts: only the standard library's basics.
"""

import importlib
import json
import sys
import time

del sys.path[0]  # this file's folder (bench/): the handler's imports must resolve as in Lambda


class Context:
    function_name = "coldstart-probe"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:eu-central-1:000000000000:function:coldstart-probe"
    aws_request_id = "coldstart-probe"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 8_000


def hooks(kind: str) -> None:
    """Run the registered SnapStart hooks, as the runtime would (shared/snapstart.py keeps them)."""
    snapstart = sys.modules.get("shared.snapstart")
    if snapstart is not None:
        getattr(snapstart, f"run_{kind}")()


def check(answer: object, expect: dict) -> None:  # type: ignore[type-arg]
    """Refuse to time a failure: a 500 answered fast is not a cold start."""
    if "status" in expect and (not isinstance(answer, dict) or answer.get("statusCode") != expect["status"]):
        raise SystemExit(f"expected status {expect['status']}, got {answer!r:.2000}")
    if "keys" in expect and (not isinstance(answer, dict) or not set(expect["keys"]) <= set(answer)):
        raise SystemExit(f"expected keys {expect['keys']}, got {answer!r:.2000}")
    if expect.get("no_failures") and (not isinstance(answer, dict) or answer.get("batchItemFailures")):
        raise SystemExit(f"expected no batch item failures, got {answer!r:.2000}")
    if expect.get("ok") and (not isinstance(answer, dict) or answer.get("ok") is not True):
        raise SystemExit(f"expected ok, got {answer!r:.2000}")


def main() -> None:
    spec = json.loads(sys.stdin.read())
    module_name, _, attribute = spec["handler"].rpartition(".")
    started = time.perf_counter()
    handler = getattr(importlib.import_module(module_name), attribute)
    init = time.perf_counter() - started
    started = time.perf_counter()
    if spec["snapstart"]:
        hooks("before_snapshot")
    snapshot = time.perf_counter() - started
    loaded = set(sys.modules)
    started = time.perf_counter()
    if spec["snapstart"]:
        hooks("after_restore")
    check(handler(spec["events"][0], Context()), spec["expect"])
    first = time.perf_counter() - started
    imported = sorted(set(sys.modules) - loaded)
    warm = []
    for event in spec["events"][1:]:
        started = time.perf_counter()
        check(handler(event, Context()), spec["expect"])
        warm.append((time.perf_counter() - started) * 1000)
    out = {
        "init_ms": init * 1000,
        "snapshot_ms": snapshot * 1000,
        "first_ms": first * 1000,
        "warm_ms": warm,
        "imported_by_first": imported,
    }
    print(json.dumps(out))


main()
