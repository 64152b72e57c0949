"""Runs the real Lambda handlers in this process, one warm "container" per function.

Powertools resolvers keep the current event on a module-level object, so, as in Lambda, a
function handles one invocation at a time: each function has a lock.
"""

from __future__ import annotations

import contextvars
import importlib
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.local import services
from infra.local.template import Function, Template

# Deployed-only settings that must not leak into a local run (they would send us to SSM or Secrets Manager).
DEPLOYED_ONLY = {
    "DATABASE_SECRET_ARN",
    "SIGNING_KEY_PARAMETER",
    "PUBLIC_KEYS_PARAMETER",
    "WRITE_VERSION_KEY_SECRET_ARN",
    "POWERTOOLS_SERVICE_NAME",
}


@dataclass
class LambdaContext:
    function_name: str
    aws_request_id: str
    memory_limit_in_mb: int = 1024
    function_version: str = "$LATEST"
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"
    deadline: float = 0.0

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


def resolve(value: Any, template: Template) -> str | None:
    """A template value with intrinsics resolved the way the local stack names things."""
    if isinstance(value, (str, int, float, bool)):
        return str(value)
    if isinstance(value, dict) and "Ref" in value:
        ref = value["Ref"]
        parameter = template.raw.get("Parameters", {}).get(ref)
        if parameter is not None:
            return str(parameter["Default"]) if "Default" in parameter else None
        return str(ref).removesuffix(".Alias")  # tables and functions are named by their logical id locally
    return None


def environment(template: Template, overrides: dict[str, str]) -> dict[str, str]:
    """The environment every local function runs with: the template's, resolved, then overrides."""
    env: dict[str, str] = {}
    for fn in template.functions.values():
        for key, value in fn.environment.items():
            resolved = resolve(value, template)
            if key not in DEPLOYED_ONLY and resolved is not None:
                env.setdefault(key, resolved)
    return {**env, **overrides}


def local_environment(
    template: Template, dynamodb_endpoint: str, database_url: str, state_dir: Path, url: str | None = None
) -> dict[str, str]:
    """The environment of the local stack's functions (and of the maintenance command run beside it);
    ``url`` is where the stack serves, for live delivery's WebSocket URL and management API."""
    live = {"REALTIME_URL": f"{url.replace('http', 'ws', 1)}/v1/realtime", "REALTIME_ENDPOINT": url} if url else {}
    overrides = {
        **live,
        "STAGE": "local",
        "INTERNAL_TRANSPORT": "local",
        "DYNAMODB_ENDPOINT": dynamodb_endpoint,
        "DATABASE_URL": database_url,
        "SIGNING_KEY_FILE": str(services.ensure_dev_keys(state_dir / "keys")),
        "WRITE_VERSION_KEY_FILE": str(services.ensure_write_version_key(state_dir / "keys")),
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "false",  # collected by infra/local/metrics.py
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
    }
    keep = {
        k: os.environ[k]
        for k in ("SIGNING_KEY_FILE", "PUBLIC_KEYS_FILE", "WRITE_VERSION_KEY", "MIN_VERSION_WAIT_SECONDS")
        if os.environ.get(k)
    }
    return environment(template, {**overrides, **keep})


class Runtime:
    def __init__(self, template: Template) -> None:
        self.template = template
        self._handlers: dict[str, Callable[[dict[str, Any], Any], Any]] = {}
        self._locks = {name: threading.Lock() for name in template.functions}

    def handler(self, name: str) -> Callable[[dict[str, Any], Any], Any]:
        if name not in self._handlers:
            fn: Function = self.template.functions[name]
            module, _, attribute = fn.handler.rpartition(".")
            self._handlers[name] = getattr(importlib.import_module(module), attribute)
        return self._handlers[name]

    def warm_up(self) -> None:
        for name in self.template.functions:
            self.handler(name)

    def invoke_concurrently(self, name: str, event: dict[str, Any]) -> Any:
        """An invocation that does not wait for the function's other invocations: Fluorine is called by
        every element at once and keeps no request state in its module (Lambda would scale it out)."""
        context = LambdaContext(function_name=name, aws_request_id=str(uuid.uuid4()), deadline=time.monotonic() + 30)
        return isolated(self.handler(name), event, context)

    def invoke(self, name: str, event: dict[str, Any], timeout: float = 30.0) -> Any:
        handler = self.handler(name)
        context = LambdaContext(
            function_name=name, aws_request_id=str(uuid.uuid4()), deadline=time.monotonic() + timeout
        )
        with self._locks[name]:
            return isolated(handler, event, context)


def isolated(handler: Callable[[dict[str, Any], Any], Any], event: dict[str, Any], context: Any) -> Any:
    """Run an invocation as if in its own environment: what it sets for its metrics and correlation
    (context variables) stays its own, and an internal call made from inside another function's
    invocation (Fluorine, called in the caller's thread) leaves the caller's log keys as they were."""
    from shared.observability import logger

    keys = logger.get_current_keys()
    try:
        return contextvars.copy_context().run(handler, event, context)
    finally:
        logger.clear_state()
        logger.append_keys(**keys)


def apply_environment(env: dict[str, str]) -> None:
    os.environ.update(env)
    from shared.aws import reset_clients
    from shared.settings import reset_settings

    reset_settings()
    reset_clients()
