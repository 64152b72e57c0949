"""One client's HTTP requests: what counts as acknowledged, and how an unacknowledged one is retried.

A request is **acknowledged** when the stack answered it: a 2xx, or a 4xx refusal (a business rule's
422, a 409...), which a keyed route keeps and replays like a success. No answer (the connection
refused, reset or timed out while the stack was down) and a 5xx (500, 502 from the gateway, 503
``not_ready``) are **unacknowledged**: the request is sent again, unchanged (the same body, the same
``Idempotency-Key``), until it is acknowledged or its time is up. A 401 is never expected (sessions
are not revoked here, and a restarted stack catches its read cache up before serving): it is
recorded as unexpected, not retried.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

OP_DEADLINE_SECONDS = 120.0  # a request is given up (and counted lost) after this long unacknowledged
REQUEST_TIMEOUT_SECONDS = 15.0


@dataclass
class Answer:
    status: int
    body: Any
    attempts: int  # 1: acknowledged at once


@dataclass
class Stats:
    requests: int = 0  # HTTP attempts sent
    operations: int = 0  # logical requests (each acknowledged once, or lost)
    retries: int = 0  # attempts after the first
    recovered: int = 0  # operations acknowledged only after a retry
    lost: int = 0  # operations never acknowledged within their deadline
    unexpected: list[str] = field(default_factory=list)  # answers no correct stack gives (a 401...)


class Client:
    def __init__(self, base_url: str, stats: Stats) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT_SECONDS)
        self.stats = stats

    def close(self) -> None:
        self.http.close()

    def send(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        body: Any = None,
        key: str | None = None,
    ) -> Answer | None:
        """Send until acknowledged (None: lost, still unacknowledged at the deadline)."""
        headers = {"X-Request-Id": str(uuid.uuid4())}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if key:
            headers["Idempotency-Key"] = key
        self.stats.operations += 1
        deadline = time.monotonic() + OP_DEADLINE_SECONDS
        pause, attempts = 0.1, 0
        while True:
            attempts += 1
            self.stats.requests += 1
            try:
                response = self.http.request(method, path, json=body, headers=headers)
            except httpx.TransportError:
                response = None
            if response is not None and response.status_code < 500:
                if attempts > 1:
                    self.stats.recovered += 1
                if response.status_code == 401:
                    self.stats.unexpected.append(f"{method} {path} 401 {response.text[:200]}")
                return Answer(response.status_code, _json(response), attempts)
            if time.monotonic() + pause > deadline:
                self.stats.lost += 1
                return None
            self.stats.retries += 1
            time.sleep(pause)
            pause = min(1.0, pause * 2)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
