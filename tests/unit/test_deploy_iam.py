"""Deploy-time checks of the translated template: IAM grants name the real ARNs of what they grant."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.support.cfn import (
    ACCOUNT,
    allows,
    as_list,
    deployed,
    environment,
    functions,
    parameters_in,
    region,
    role_of,
    ssm_parameter_arn,
    stage_environments,
    statements,
)

ENVIRONMENTS = sorted(stage_environments())


# Every template parameter an IAM resource is built from, and the real ARN(s) of what its value names.
REAL_ARN_OF: dict[str, Callable[[str], set[str]]] = {
    "SigningKeyParameter": lambda name: {ssm_parameter_arn(name)},
    "PublicKeysParameter": lambda name: {ssm_parameter_arn(name)},
    # The live-delivery WebSocket API's @connections in the stage's own stage (push, close): no other stage's
    "Stage": lambda stage: {
        f"arn:aws:execute-api:{region()}:{ACCOUNT}:<<RealtimeApi>>/{stage}/{method}/@connections/*"
        for method in ("POST", "DELETE")
    },
}


@pytest.mark.parametrize("environment_name", ENVIRONMENTS)
def test_every_iam_resource_built_from_a_parameter_is_that_parameters_real_arn(environment_name: str) -> None:
    # Given the stack a stage deploys, nested stacks included
    root = deployed(environment_name)
    built: list[tuple[str, set[str], str]] = []
    # When every IAM resource built from a template parameter is resolved with the stage's values
    for stack in (root, *root.nested.values()):
        for role in stack.of_type("AWS::IAM::Role"):
            for statement in statements(stack, role):
                for resource in as_list(statement.get("Resource", [])):
                    if used := parameters_in(stack, resource):
                        built.append((role, used, str(stack.resolve(resource))))
    # Then each is exactly the ARN of what the parameter names (no "parameter//name", no stray wildcard)
    assert built
    wrong = [
        (role, arn)
        for role, used, arn in built
        if arn not in {real for name in used for real in REAL_ARN_OF[name](root.parameters[name])} or "//" in arn
    ]
    assert wrong == []


@pytest.mark.parametrize("environment_name", ENVIRONMENTS)
def test_each_function_may_read_the_ssm_parameters_its_environment_names(environment_name: str) -> None:
    # Given the stack a stage deploys
    stack = deployed(environment_name)
    # When each function's *_PARAMETER variables are looked up as SSM parameter ARNs
    named = {
        (function, ssm_parameter_arn(str(value)))
        for function in functions(stack)
        for key, value in environment(stack, function).items()
        if key.endswith("_PARAMETER")
    }
    # Then the function's role allows ssm:GetParameter on each (the authorizer's keys, Oxygen's signing key)
    assert {f for f, _ in named} >= {"AuthorizerFunction", "OxygenFunction"}
    assert sorted((f, arn) for f, arn in named if not allows(stack, role_of(stack, f), "ssm:GetParameter", arn)) == []
