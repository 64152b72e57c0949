"""Test settings shared by every layer: a local-stage environment and a throwaway signing key.

Unit tests need nothing else. Integration fixtures (PostgreSQL, moto, the stream driver) live in
tests/integration/conftest.py, the local stack fixture in tests/e2e/conftest.py.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path
from typing import Any

from shared import internal
from shared.auth.keys import generate_signing_key_pem

_KEY_DIR = Path(tempfile.mkdtemp(prefix="elements-test-keys-"))
TEST_KEY_FILE = _KEY_DIR / "signing-key.pem"
TEST_KEY_FILE.write_bytes(generate_signing_key_pem())

os.environ.update(
    {
        "STAGE": "test",
        "INTERNAL_TRANSPORT": "local",
        "SIGNING_KEY_FILE": str(TEST_KEY_FILE),
        # Shared with the e2e local stack, so tests can present genuine write version tokens.
        "WRITE_VERSION_KEY": secrets.token_hex(32),
        "JWT_ISSUER": "https://elements.example.com",
        "JWT_AUDIENCE": "elements-api",
        "CHANGE_FEED_TABLE": "ChangeFeedTable",
        "READ_CACHE_TABLE": "ReadCacheTable",
        "REALTIME_TABLE": "RealtimeTable",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        # Not us-east-1, the SDKs' and many examples' default: a region hard-coded anywhere fails a test.
        "AWS_DEFAULT_REGION": "eu-central-1",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "MIN_VERSION_WAIT_SECONDS": "2",
    }
)
os.environ.pop("AWS_REGION", None)  # a developer's shell must not move the clients elsewhere
os.environ.pop("DYNAMODB_ENDPOINT", None)
os.environ.pop("DATABASE_URL", None)


def _invoke_in_process(function: str, event: dict[str, Any]) -> dict[str, Any]:
    """Internal calls in tests: Fluorine's handler called in this process (named "fluorine" here)."""
    from fluorine.app import handler
    from tests.support.events import FakeContext

    assert function == "fluorine", f"no local function {function!r} in tests"
    return handler(event, FakeContext())  # type: ignore[no-any-return]


internal.use_local_transport(_invoke_in_process)
