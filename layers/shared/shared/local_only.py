"""Local stages never reach AWS: their clients refuse to send a request off this machine.

In the ``local`` and ``test`` stages a boto3 client talks either to moto in-process (which
answers in botocore's ``before-send`` event, so nothing is sent) or to an endpoint on this
machine (the local stack's moto server on 127.0.0.1). A call that would still go out — no
endpoint configured and no moto running — fails at once with ``RemoteEndpointRefused``, before
any DNS lookup; botocore retries only connection and HTTP errors, so it does not retry this one.

The check sits in the client's HTTP session, the one place a request is actually sent: an event
handler would also see, and refuse, the requests moto answers in-process.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit


class RemoteEndpointRefused(RuntimeError):
    """A local-only client was about to send a request to a host off this machine."""


def is_local(url: str) -> bool:
    """Whether ``url`` names this machine: ``localhost`` or a loopback address."""
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _LocalOnlySession:
    """A client's HTTP session that sends to this machine only."""

    def __init__(self, session: Any, stage: str) -> None:
        self._session = session
        self._stage = stage

    def send(self, request: Any) -> Any:
        if not is_local(request.url):
            target = request.headers.get("X-Amz-Target") or b""  # e.g. DynamoDB_20120810.BatchGetItem
            what = f"{target.decode() if isinstance(target, bytes) else target} " if target else ""
            raise RemoteEndpointRefused(
                f"refused to send {what}{request.method} {request.url}: the {self._stage!r} stage is local-only "
                "and that host is not this machine. Give the client a local endpoint (DYNAMODB_ENDPOINT, "
                "e.g. the local stack's moto server) or make the call inside moto's mock_aws."
            )
        return self._session.send(request)

    def __getattr__(self, name: str) -> Any:  # close() and the rest: the real session's
        return getattr(self._session, name)


def refuse_remote(client: Any, stage: str) -> Any:
    """``client``, unable from now on to send a request to any host but this machine."""
    endpoint = client._endpoint  # where botocore keeps the HTTP session; no public hook reaches it
    endpoint.http_session = _LocalOnlySession(endpoint.http_session, stage)
    return client
