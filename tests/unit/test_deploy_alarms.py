"""Deploy-time checks of the alarms: each one can fire, and its notification can be delivered."""

from __future__ import annotations

import fnmatch
from typing import Any

import pytest

from tests.support.cfn import TOKEN, Stack, as_list, deployed, stage_environments

ENVIRONMENTS = sorted(stage_environments())
CLOUDWATCH = "cloudwatch.amazonaws.com"
# What SNS does with the key on the publisher's behalf when a message reaches an encrypted topic.
KEY_USE_ON_PUBLISH = ("kms:Decrypt", "kms:GenerateDataKey")


def grants(policy: dict[str, Any], service: str, actions: tuple[str, ...]) -> bool:
    """Whether a resource policy allows ``service`` every one of ``actions`` (IAM wildcards)."""
    allowed: list[str] = []
    for statement in as_list(policy["Statement"]):
        principal = statement.get("Principal", {})
        services = as_list(principal.get("Service", [])) if isinstance(principal, dict) else []
        if statement.get("Effect") == "Allow" and service in services:
            allowed += [str(a).lower() for a in as_list(statement["Action"])]
    return all(any(fnmatch.fnmatchcase(a.lower(), pattern) for pattern in allowed) for a in actions)


def cloudwatch_may_publish_to(stack: Stack, topic: str) -> bool:
    """A topic CloudWatch can publish to: unencrypted, or encrypted with a key whose policy lets CloudWatch use it.

    The AWS-managed alias/aws/sns key's policy cannot be changed, and it does not trust CloudWatch.
    """
    key = stack.props(topic).get("KmsMasterKeyId")
    if key is None:
        return True
    names = TOKEN.findall(str(stack.resolve(key)))
    if not names or stack.resources[names[0].split(".")[0]]["Type"] != "AWS::KMS::Key":
        return False
    key_props = stack.resolve(stack.resources[names[0].split(".")[0]]["Properties"])
    if not key_props.get("Enabled", True) or not grants(key_props["KeyPolicy"], CLOUDWATCH, KEY_USE_ON_PUBLISH):
        return False
    topic_policies = [
        p["Properties"]["PolicyDocument"]
        for p in stack.of_type("AWS::SNS::TopicPolicy").values()
        if {"Ref": topic} in p["Properties"]["Topics"]
    ]
    return all(grants(p, CLOUDWATCH, ("sns:Publish",)) for p in topic_policies)


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_alarm_notifies_a_topic_cloudwatch_may_publish_to(environment: str) -> None:
    # Given the stack's alarms and the topics they notify
    stack = deployed(environment)
    alarms = stack.of_type("AWS::CloudWatch::Alarm")
    actions = {
        (name, action["Ref"])
        for name, alarm in alarms.items()
        for key in ("AlarmActions", "OKActions", "InsufficientDataActions")
        for action in alarm["Properties"].get(key, [])
    }
    # Then every alarm notifies someone, through a topic whose encryption CloudWatch may use
    assert alarms
    assert {name for name, _ in actions} == set(alarms)
    assert sorted((name, topic) for name, topic in actions if not cloudwatch_may_publish_to(stack, topic)) == []


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_api_alarms_watch_the_api_and_stage_that_are_deployed(environment: str) -> None:
    # Given the API's name (its OpenAPI title) and stage, and the alarms on API Gateway metrics
    stack = deployed(environment)
    (api,) = stack.of_type("AWS::ApiGateway::RestApi").values()
    name = stack.resolve(api["Properties"].get("Name") or api["Properties"]["Body"]["info"]["title"])
    watched = [
        {d["Name"]: d["Value"] for d in stack.resolve(alarm["Properties"]["Dimensions"])}
        for alarm in stack.of_type("AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("Namespace") == "AWS/ApiGateway"
    ]
    # Then their dimensions name exactly those (a misnamed dimension is an alarm that never fires)
    assert watched
    assert all(d == {"ApiName": name, "Stage": stack.parameters["Stage"]} for d in watched), watched
