"""Calling ``POST /v1/graphql`` through Francium's real handler."""

from __future__ import annotations

from typing import Any

from shared.context import Caller
from tests.integration.social_support import Answer, _call


def graphql(
    caller: Caller | None,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    headers: dict[str, str] | None = None,
    raw_body: str | None = None,
) -> Answer:
    body: Any = raw_body if raw_body is not None else {"query": query, "variables": variables or {}}
    return _call("francium.app", "POST", "/v1/graphql", caller, body=body, headers=headers)


def codes(answer: Answer) -> list[str]:
    return [e["extensions"]["code"] for e in answer.body.get("errors", [])]
