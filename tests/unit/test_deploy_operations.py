"""Deploy-time checks of how the functions run: custom resources, timeouts, SnapStart, deploy order."""

from __future__ import annotations

import pytest

from tests.support.cfn import Stack, aliased_function, deployed, stage_environments

ENVIRONMENTS = sorted(stage_environments())


def event_invoke_configs(stack: Stack) -> dict[str, dict[str, object]]:
    """Asynchronous-invocation settings by function (SAM's EventInvokeConfig on the alias)."""
    return {
        str(r["Properties"]["FunctionName"]["Ref"]): r["Properties"]
        for r in stack.of_type("AWS::Lambda::EventInvokeConfig").values()
    }


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_custom_resource_is_answered_or_failed_soon_after_its_function_gives_up(environment: str) -> None:
    # Given the stack's custom resources and the functions behind them
    stack = deployed(environment)
    custom = {
        name: r["Properties"]
        for name, r in stack.resources.items()
        if r["Type"] == "AWS::CloudFormation::CustomResource" or r["Type"].startswith("Custom::")
    }
    assert custom
    for name, props in custom.items():
        function = aliased_function(stack, props["ServiceToken"])
        assert function is not None, name
        timeout = int(stack.props(function)["Timeout"])
        # Then CloudFormation stops waiting shortly after the function's own timeout (not after an hour)...
        assert timeout < int(props.get("ServiceTimeout", 3600)) <= timeout + 120, name
        # ...and Lambda never re-runs it on its own (CloudFormation invokes it asynchronously)
        assert event_invoke_configs(stack).get(function, {}).get("MaximumRetryAttempts") == 0, name
