"""Runs scheduled functions (``rate(...)`` expressions) on timers, as EventBridge would."""

from __future__ import annotations

import re
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from infra.local.runtime import Runtime

UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}


def rate_seconds(expression: str) -> float | None:
    found = re.fullmatch(r"rate\((\d+)\s+(\w+)\)", expression.strip())
    return float(found.group(1)) * UNITS[found.group(2)] if found and found.group(2) in UNITS else None


def scheduled_event(function: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": [f"arn:aws:events:us-east-1:000000000000:rule/{function}"],
        "detail": {},
    }


class Scheduler:
    def __init__(self, runtime: Runtime, log: Any = print, speedup: float = 1.0) -> None:
        self.runtime, self.log, self.speedup = runtime, log, speedup
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for name, fn in self.runtime.template.functions.items():
            for expression in fn.schedules:
                seconds = rate_seconds(expression)
                if seconds is None:
                    self.log(f"schedule {expression!r} of {name} is not supported locally")
                    continue
                thread = threading.Thread(target=self._loop, args=(name, seconds / self.speedup), daemon=True)
                thread.start()
                self._threads.append(thread)

    def _loop(self, name: str, every: float) -> None:
        while not self._stop.wait(every):
            try:
                self.runtime.invoke(name, scheduled_event(name))
            except Exception as exc:
                self.log(f"scheduled {name} failed: {exc!r}")

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
