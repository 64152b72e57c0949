"""AWS clients go to the region the function runs in: Lambda's AWS_REGION, never a silent us-east-1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import ValidationError

from shared.aws import dynamodb, reset_clients
from shared.settings import get_settings, reset_settings


@pytest.fixture
def lambda_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """A deployed stage's environment as Lambda sets it: AWS_REGION and AWS_DEFAULT_REGION, no REGION."""
    monkeypatch.setenv("STAGE", "prod")
    monkeypatch.setenv("AWS_REGION", "ap-southeast-2")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-southeast-2")
    monkeypatch.delenv("REGION", raising=False)
    reset_settings()
    reset_clients()
    yield monkeypatch
    monkeypatch.undo()
    reset_settings()
    reset_clients()


def test_the_dynamodb_client_goes_to_the_region_lambda_runs_in(lambda_environment: pytest.MonkeyPatch) -> None:
    # Given a function running in ap-southeast-2
    # When it creates its DynamoDB client
    client = dynamodb()
    # Then the client calls ap-southeast-2's endpoint
    assert client.meta.region_name == "ap-southeast-2"
    assert get_settings().region == "ap-southeast-2"


def test_aws_region_wins_over_aws_default_region(lambda_environment: pytest.MonkeyPatch) -> None:
    # Given AWS_REGION (what Lambda sets for the function) differs from a default region
    lambda_environment.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    reset_settings()
    # When the settings are read
    # Then the function's own region is used
    assert get_settings().region == "ap-southeast-2"


def test_a_deployed_stage_without_a_region_refuses_to_guess(lambda_environment: pytest.MonkeyPatch) -> None:
    # Given a deployed stage whose environment names no region
    lambda_environment.delenv("AWS_REGION")
    lambda_environment.delenv("AWS_DEFAULT_REGION")
    reset_settings()
    # When the settings are read
    # Then they fail loudly instead of sending every call to us-east-1
    with pytest.raises(ValidationError, match="region"):
        get_settings()
