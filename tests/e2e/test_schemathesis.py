"""Property-based API testing from the live OpenAPI document: nothing a client sends may cause a 5xx.

Bounded: a few examples per operation, so the whole run stays within seconds.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.e2e.contract_support import ADMIN

MAX_EXAMPLES = 15


@pytest.fixture(scope="package")
def api_schema(stack_url: str) -> Any:
    return schemathesis.openapi.from_url(f"{stack_url}/v1/openapi.json")


@pytest.fixture(scope="package")
def auth_headers(stack_url: str) -> dict[str, str]:
    """The local stack's platform admin, logged in for real: admin routes' success paths are fuzzed too."""
    answer = httpx.post(f"{stack_url}/v1/auth/token", json=ADMIN, timeout=30)
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def test_no_request_causes_a_server_error(api_schema: Any, auth_headers: dict[str, str]) -> None:
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 5

    for operation in operations:

        @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        @given(case=operation.as_strategy())
        def exercise(case: Any) -> None:
            response = case.call(headers=auth_headers, timeout=30)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}")

        exercise()
    assert failures == [], "\n".join(failures)
