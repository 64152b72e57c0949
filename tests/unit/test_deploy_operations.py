"""Deploy-time checks of how the functions run: custom resources, timeouts, SnapStart, deploy order."""

from __future__ import annotations

import pytest

from tests.support.cfn import TOKEN, Stack, aliased_function, deployed, environment, functions, stage_environments

ENVIRONMENTS = sorted(stage_environments())


def event_invoke_configs(stack: Stack) -> dict[str, dict[str, object]]:
    """Asynchronous-invocation settings by function (SAM's EventInvokeConfig on the alias)."""
    return {
        str(r["Properties"]["FunctionName"]["Ref"]): r["Properties"]
        for r in stack.of_type("AWS::Lambda::EventInvokeConfig").values()
    }


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_every_custom_resource_is_answered_or_failed_soon_after_its_function_gives_up(env_name: str) -> None:
    # Given the stack's custom resources and the functions behind them
    stack = deployed(env_name)
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


API_GATEWAY_INTEGRATION_TIMEOUT = 29  # seconds: past it the client gets a 504 while the function goes on
READ_SIDE_WAIT = 5  # seconds: MIN_VERSION_WAIT_SECONDS's default, waited after a write by some routes
FLUORINE_CALLS_PER_REQUEST = 2  # at most, in sequence (a distribution: ListRecipients, then DistributeAsset)


def timeout(stack: Stack, function: str) -> int:
    return int(stack.props(function)["Timeout"])


def api_permissions(stack: Stack) -> list[dict[str, object]]:
    """What API Gateway may invoke: the routes' functions and the authorizer."""
    return [
        p["Properties"]
        for p in stack.of_type("AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "apigateway.amazonaws.com"
    ]


def fluorine_callers(stack: Stack) -> list[str]:
    return [name for name in functions(stack) if "FLUORINE_FUNCTION" in environment(stack, name)]


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_fluorine_answers_before_its_callers_give_up_on_it(env_name: str) -> None:
    # Given Fluorine's timeout and the functions that call it synchronously
    stack = deployed(env_name)
    fluorine = timeout(stack, "FluorineFunction")
    callers = {name: timeout(stack, name) for name in fluorine_callers(stack)}
    # When a caller makes its Fluorine calls (each bounded by Fluorine's timeout) and waits for the read side
    needed = FLUORINE_CALLS_PER_REQUEST * fluorine + READ_SIDE_WAIT
    # Then it outlives them (a caller that dies first turns a committed write into a 5xx), and an API
    # function still answers within API Gateway's integration timeout
    assert callers
    assert {name: t for name, t in callers.items() if t < needed} == {}
    api_functions = {aliased_function(stack, p["FunctionName"]) for p in api_permissions(stack)}
    assert {
        name: t for name, t in callers.items() if name in api_functions and t > API_GATEWAY_INTEGRATION_TIMEOUT
    } == {}


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_a_stream_consumer_that_calls_fluorine_per_record_has_time_for_its_whole_batch(env_name: str) -> None:
    # Given the stream mappings of functions that call Fluorine once per record
    stack = deployed(env_name)
    mappings = [
        (aliased_function(stack, m["Properties"]["FunctionName"]), int(m["Properties"]["BatchSize"]))
        for m in stack.of_type("AWS::Lambda::EventSourceMapping").values()
    ]
    per_record = [(name, size) for name, size in mappings if name in fluorine_callers(stack)]
    # Then each batch's calls fit in the consumer's timeout even if every call takes Fluorine's whole timeout
    assert per_record
    fluorine = timeout(stack, "FluorineFunction")
    assert [(name, size) for name, size in per_record if name and timeout(stack, name) < size * fluorine + 5] == []


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_snapstart_is_paid_for_only_where_a_client_waits_for_a_cold_start(env_name: str) -> None:
    # Given the functions API Gateway invokes (routes and the authorizer) and those they call synchronously
    stack = deployed(env_name)
    api = {aliased_function(stack, p["FunctionName"]) for p in api_permissions(stack)}
    called = {aliased_function(stack, environment(stack, f).get("FLUORINE_FUNCTION", "")) for f in api if f}
    request_path = (api | called) - {None}
    # When the functions with SnapStart are listed (each published version's snapshot is billed while cached)
    snapstarted = {
        name
        for name, function in functions(stack).items()
        if function["Properties"].get("SnapStart", {}).get("ApplyOn") == "PublishedVersions"
    }
    # Then they are exactly the request path: streams, schedules and the deploy's migrations gain nothing from it
    assert snapstarted == request_path


def dependencies(stack: Stack, name: str) -> set[str]:
    """The resources CloudFormation creates or updates before ``name``: DependsOn and references, transitively."""
    seen: set[str] = set()
    todo = [name]
    while todo:
        resource = stack.resources[todo.pop()]
        depends = resource.get("DependsOn", [])
        direct = set(depends if isinstance(depends, list) else [depends])
        direct |= {t.split(".", 1)[0] for t in TOKEN.findall(str(stack.resolve(resource.get("Properties", {}))))}
        for found in direct & set(stack.resources) - seen:
            seen.add(found)
            todo.append(found)
    return seen


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_new_code_that_uses_the_database_goes_live_only_after_the_migrations_ran(env_name: str) -> None:
    # Given the functions that use the database, but the migration runner itself
    stack = deployed(env_name)
    users = {n for n in functions(stack) if "DATABASE_HOST" in environment(stack, n)} - {"FluorineMigrateFunction"}
    aliases = {
        str(a["Properties"]["FunctionName"]["Ref"]): name for name, a in stack.of_type("AWS::Lambda::Alias").items()
    }
    # When CloudFormation orders a deploy
    # Then the alias "live" of each (what its schedule or callers invoke) moves only after the
    # Migrations custom resource: new code never runs against the old schema
    assert users
    assert sorted(u for u in users if "Migrations" not in dependencies(stack, aliases[u])) == []
