"""The change feed's stream as deployed: how many readers each shard has (DynamoDB Streams serves
two without throttling: docs/capacity.md), and that the capacity model describes this template."""

from __future__ import annotations

from typing import Any

import pytest

from bench.capacity.limits import LIMITS
from bench.capacity.model import Deployment
from tests.support.cfn import Stack, aliased_function, deployed, stage_environments

ENVIRONMENTS = sorted(stage_environments())
STREAM_ARN = {"Fn::GetAtt": ["ChangeFeedTable", "StreamArn"]}


def stream_readers(stack: Stack) -> list[str]:
    """Everything that polls the change feed's stream: Lambda event source mappings and EventBridge
    Pipes (a Kinesis Data Streams destination would be read from Kinesis, not from this stream)."""
    stream = stack.resolve(STREAM_ARN)
    readers = [
        aliased_function(stack, m["Properties"]["FunctionName"]) or name
        for name, m in stack.of_type("AWS::Lambda::EventSourceMapping").items()
        if stack.resolve(m["Properties"].get("EventSourceArn")) == stream
    ]
    readers += [
        name
        for name, p in stack.of_type("AWS::Pipes::Pipe").items()
        if stack.resolve(p["Properties"].get("Source")) == stream
    ]
    return sorted(readers)


def mapping(stack: Stack, function: str) -> dict[str, Any]:
    stream = stack.resolve(STREAM_ARN)
    return next(
        m["Properties"]
        for m in stack.of_type("AWS::Lambda::EventSourceMapping").values()
        if stack.resolve(m["Properties"].get("EventSourceArn")) == stream
        and aliased_function(stack, m["Properties"]["FunctionName"]) == function
    )


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_the_change_feed_has_at_most_two_readers_per_shard(env_name: str) -> None:
    # Given the stack a deploy would create
    stack = deployed(env_name)
    # Then the change feed's stream is read by the projector and the Rhenium trigger only: a third
    # reader (live delivery, a new consumer) would be throttled with them (docs/capacity.md, Stream readers)
    readers = stream_readers(stack)
    assert len(readers) <= LIMITS["stream_readers"].value
    assert readers == ["FranciumProjectorFunction", "RheniumTriggerFunction"]


def test_a_third_reader_of_the_stream_is_counted() -> None:
    # Given a stack whose change feed has the two readers and a pipe, and another table's mapping
    def esm(function: str, table: str) -> dict[str, Any]:
        arn = {"Fn::GetAtt": [table, "StreamArn"]}
        return {
            "Type": "AWS::Lambda::EventSourceMapping",
            "Properties": {"FunctionName": function, "EventSourceArn": arn},
        }

    resources = {
        "ChangeFeedTable": {"Type": "AWS::DynamoDB::Table"},
        "OtherTable": {"Type": "AWS::DynamoDB::Table"},
        "Projector": esm("projector", "ChangeFeedTable"),
        "Trigger": esm("trigger", "ChangeFeedTable"),
        "Elsewhere": esm("other", "OtherTable"),
        "Pipe": {"Type": "AWS::Pipes::Pipe", "Properties": {"Source": STREAM_ARN}},
    }
    # Then the change feed has three readers, one too many
    readers = stream_readers(Stack({"Resources": resources}, {}, "test"))
    assert readers == ["Pipe", "Projector", "Trigger"]
    assert len(readers) > LIMITS["stream_readers"].value


def test_the_capacity_model_describes_the_production_stack() -> None:
    # Given the production stack (dev's stage throttle is lower: samconfig.toml) and the model's view of it
    stack, model = deployed("prod"), Deployment()
    # Then the model counts the same readers and parallelism, and the template's configured limits
    assert model.stream_consumers == len(stream_readers(stack))
    assert model.trigger_parallelization == int(
        mapping(stack, "RheniumTriggerFunction").get("ParallelizationFactor", 1)
    )
    assert model.projector_parallelization == int(
        mapping(stack, "FranciumProjectorFunction").get("ParallelizationFactor", 1)
    )
    assert LIMITS["trigger_timeout"].value == stack.props("RheniumTriggerFunction")["Timeout"]
    settings = {s["ResourcePath"]: s for s in stack.resolve(stack.props(_stage(stack))["MethodSettings"])}
    assert LIMITS["api_stage_rps"].value == float(settings["/*"]["ThrottlingRateLimit"])
    assert LIMITS["api_login_rps"].value == float(settings["/~1v1~1auth~1token"]["ThrottlingRateLimit"])
    database = stack.nested["Database"]
    assert LIMITS["aurora_acu"].value == float(database.parameters["MaxCapacity"])
    assert model.min_acu == float(database.parameters["MinCapacity"])


def _stage(stack: Stack) -> str:
    return next(name for name in stack.of_type("AWS::ApiGateway::Stage"))
