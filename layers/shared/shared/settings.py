"""Environment-driven settings, read once per warm container.

Local runs take secrets from the environment or files; deployed stages take the signing key and
database credentials from SSM / Secrets Manager via Powertools parameters, and a development key
is refused outside ``local``.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator

Stage = Literal["local", "test", "dev", "prod"]
# Where AWS clients go: Lambda sets AWS_REGION (and AWS_DEFAULT_REGION) to the function's region.
REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")
LOCAL_REGION = "us-east-1"  # local stacks and tests only; a deployed stage never guesses


class Settings(BaseModel):
    stage: Stage = "local"
    service: str = "elements"
    region: str | None = None
    dynamodb_endpoint: str | None = None
    change_feed_table: str = "ChangeFeed"
    read_cache_table: str = "ReadCache"
    # Live delivery: its connections table, the URL clients connect to, the management API's endpoint.
    realtime_table: str = "RealtimeTable"
    realtime_url: str | None = None
    realtime_endpoint: str | None = None
    database_url: str | None = None
    database_secret_arn: str | None = None
    database_host: str | None = None  # RDS Proxy endpoint; overrides the secret's (cluster) host
    jwt_issuer: str = "https://elements.local"
    jwt_audience: str = "elements-api"
    access_token_ttl: int = Field(default=900, ge=60, le=3600)
    refresh_token_ttl: int = Field(default=30 * 24 * 3600, ge=3600)
    # A refresh token spent this recently is honoured again (two tabs refreshing at once).
    refresh_grace_seconds: float = Field(default=10, ge=0, le=60)
    signing_key_file: str | None = None
    signing_key_pem: SecretStr | None = None
    signing_key_parameter: str | None = None
    public_keys_file: str | None = None
    public_keys_parameter: str | None = None
    # The HMAC key of write version tokens: a Secrets Manager secret deployed; locally a
    # value or a file (a process-random key when neither is set).
    write_version_key_secret_arn: str | None = None
    write_version_key: SecretStr | None = None
    write_version_key_file: str | None = None
    internal_transport: Literal["lambda", "local"] = "lambda"
    fluorine_function: str = "fluorine"
    # Who repairs read-cache items a reader finds lost or unreadable (Francium's maintenance
    # function); None: the reader only reports them (shared/repair.py).
    maintenance_function: str | None = None
    min_version_wait_seconds: float = Field(default=5.0, ge=0, le=25)
    # A group's broadcasts are copied into the inboxes of the members who joined while it had at
    # most this many members (fan-out on write); later members read the group's partition
    # (docs/architecture.md, "Inbox: hybrid fan-out"; the figure from docs/benchmarks.md).
    # At most 30,000: a broadcast's write version names its fan-out events (1,000 recipients each)
    # and a token names at most 32 aggregates.
    fanout_limit: int = Field(default=10_000, ge=0, le=30_000)

    @property
    def is_local(self) -> bool:
        return self.stage in ("local", "test")

    @model_validator(mode="after")
    def _region_is_known(self) -> Settings:
        if self.region is None:
            if not self.is_local:
                raise ValueError("no AWS region: AWS_REGION is unset, and a deployed stage must not guess one")
            self.region = LOCAL_REGION
        return self


_ENV = {name: name.upper() for name in Settings.model_fields if name != "region"}


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings from the environment (upper-case field names; the region from ``REGION_VARIABLES``), validated once."""
    values = {field: os.environ[env] for field, env in _ENV.items() if os.environ.get(env)}
    region = next((os.environ[name] for name in REGION_VARIABLES if os.environ.get(name)), None)
    return Settings.model_validate({**values, "region": region})


def reset_settings() -> None:
    """Forget cached settings (tests and the local stack change the environment)."""
    get_settings.cache_clear()
