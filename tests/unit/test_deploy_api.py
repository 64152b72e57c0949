"""Deploy-time checks of the translated template: what API Gateway and the event sources invoke."""

from __future__ import annotations

from typing import Any

import pytest

from infra.local.template import read
from tests.support.cfn import ROOT, aliased_function, deployed, functions, stage_environments

ENVIRONMENTS = sorted(stage_environments())


def integration_uris(body: dict[str, Any]) -> dict[str, Any]:
    """Each route's Lambda integration URI in an API's OpenAPI body, by "METHOD path"."""
    return {
        f"{method.upper()} {path}": operation["x-amazon-apigateway-integration"]["uri"]
        for path, item in body["paths"].items()
        for method, operation in item.items()
        if "x-amazon-apigateway-integration" in operation
    }


def authorizer_uris(body: dict[str, Any]) -> dict[str, Any]:
    schemes = {**body.get("securityDefinitions", {}), **body.get("components", {}).get("securitySchemes", {})}
    return {
        name: scheme["x-amazon-apigateway-authorizer"]["authorizerUri"]
        for name, scheme in schemes.items()
        if "x-amazon-apigateway-authorizer" in scheme
    }


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_route_and_authorizer_invokes_a_live_alias(environment: str) -> None:
    # Given the stack a stage deploys
    stack = deployed(environment)
    # When API Gateway resolves each integration and authorizer
    (api,) = stack.of_type("AWS::ApiGateway::RestApi").values()
    targets = {**integration_uris(api["Properties"]["Body"]), **authorizer_uris(api["Properties"]["Body"])}
    # Then every one of them is a function's alias "live" (the version SnapStart restored), never $LATEST
    assert targets
    assert {name: stack.resolve(uri) for name, uri in targets.items() if not aliased_function(stack, uri)} == {}


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_event_sources_schedules_permissions_and_custom_resources_target_live_aliases(environment: str) -> None:
    # Given the stack a stage deploys
    stack = deployed(environment)
    # When every other way a function is invoked is collected
    targets: dict[str, Any] = {}
    for name, mapping in stack.of_type("AWS::Lambda::EventSourceMapping").items():
        targets[name] = mapping["Properties"]["FunctionName"]
    for name, rule in stack.of_type("AWS::Events::Rule").items():
        for target in rule["Properties"]["Targets"]:
            targets[f"{name}/{target['Id']}"] = target["Arn"]
    for name, permission in stack.of_type("AWS::Lambda::Permission").items():
        targets[name] = permission["Properties"]["FunctionName"]
    for name, resource in stack.resources.items():
        if resource["Type"] == "AWS::CloudFormation::CustomResource" or resource["Type"].startswith("Custom::"):
            targets[name] = resource["Properties"]["ServiceToken"]
    # Then each names an alias "live", and every function deployed is reached only that way
    assert {name: stack.resolve(t) for name, t in targets.items() if aliased_function(stack, t) is None} == {}
    assert {aliased_function(stack, t) for t in targets.values()} <= set(functions(stack))


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_api_is_served_on_the_stages_own_stage_only(environment: str) -> None:
    # Given the stack a stage deploys
    stack = deployed(environment)
    # When its API Gateway stages are collected (a Deployment's StageName creates one too)
    stages = [stack.resolve(r["Properties"]["StageName"]) for r in stack.of_type("AWS::ApiGateway::Stage").values()]
    implicit = {
        name: r["Properties"]["StageName"]
        for name, r in stack.of_type("AWS::ApiGateway::Deployment").items()
        if "StageName" in r["Properties"]
    }
    # Then the only stage is the stage's own: no "Stage" stage beside it without throttling or access logs
    assert implicit == {}
    assert stages == [stack.parameters["Stage"]]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_stage_logs_access_and_holds_login_to_its_own_limit(environment: str) -> None:
    # Given the API's stage
    stack = deployed(environment)
    (stage,) = stack.of_type("AWS::ApiGateway::Stage").values()
    settings = {(s["HttpMethod"], s["ResourcePath"]): s for s in stack.resolve(stage["Properties"]["MethodSettings"])}
    # Then it writes access logs and throttles every route, login more tightly
    assert "DestinationArn" in stage["Properties"]["AccessLogSetting"]
    assert settings["*", "/*"]["ThrottlingRateLimit"] == stack.parameters["ApiRateLimit"]
    assert settings["POST", "/~1v1~1auth~1token"]["ThrottlingRateLimit"] == 20


ACCOUNT_TEMPLATE = "infra/cloudformation/account.yaml"


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_access_logging_has_its_account_prerequisite_outside_the_stages_stacks(environment: str) -> None:
    # Given a stage whose API writes access logs (API Gateway refuses that in an account without its
    # CloudWatch role, failing the first deploy)
    stack = deployed(environment)
    assert all("AccessLogSetting" in s["Properties"] for s in stack.of_type("AWS::ApiGateway::Stage").values())
    # When the account setting is looked for
    account = read(ROOT / ACCOUNT_TEMPLATE)["Resources"]
    (setting,) = [r for r in account.values() if r["Type"] == "AWS::ApiGateway::Account"]
    role = account[setting["Properties"]["CloudWatchRoleArn"]["Fn::GetAtt"][0]]
    trusted = role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"]
    # Then no stage's stack owns it (two stages would fight over it, deleting one would break the
    # other's logs); the one-time account template sets it, retained, to a role API Gateway assumes
    # with the managed push-to-CloudWatch policy; and the README's deploy steps say to deploy it first
    assert stack.of_type("AWS::ApiGateway::Account") == {}
    assert (setting["DeletionPolicy"], role["DeletionPolicy"]) == ("Retain", "Retain")
    assert trusted == "apigateway.amazonaws.com"
    assert "AmazonAPIGatewayPushToCloudWatchLogs" in str(role["Properties"]["ManagedPolicyArns"])
    assert ACCOUNT_TEMPLATE in (ROOT / "README.md").read_text().split("## Deploying", 1)[1].split("\n## ", 1)[0]
