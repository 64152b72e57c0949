"""Deploy-time checks of samconfig.toml's stages: each has its own keys, issuer and audience, and only those."""

from __future__ import annotations

from itertools import permutations

import pytest

from infra.local.template import read
from tests.support.cfn import (
    ROOT,
    allows,
    deployed,
    functions,
    role_of,
    ssm_parameter_arn,
    stack_name,
    stage_environments,
)

# Parameters that name something belonging to one stage: a token signed for one must mean nothing to another.
STAGE_OWNED = ("Stage", "SigningKeyParameter", "PublicKeysParameter", "JwtIssuer", "JwtAudience")
KEY_PARAMETERS = ("SigningKeyParameter", "PublicKeysParameter")
ENVIRONMENTS = stage_environments()


def test_there_is_a_dev_and_a_prod_stage_each_in_its_own_stack() -> None:
    # Given samconfig.toml's deploy environments
    stages = {name: overrides.get("Stage") for name, overrides in ENVIRONMENTS.items()}
    # Then plain `sam deploy` is dev, `--config-env prod` is prod, and their stacks differ
    assert stages == {"default": "dev", "prod": "prod"}
    assert len({stack_name(name) for name in ENVIRONMENTS}) == len(ENVIRONMENTS)


def test_every_stage_sets_each_stage_owned_parameter_to_a_value_of_its_own() -> None:
    # Given each stage's parameter overrides, and the values its stack is deployed with
    values = {env: deployed(env).parameters for env in ENVIRONMENTS}
    # When the stage-owned parameters are compared across stages
    missing = sorted((env, p) for env, overrides in ENVIRONMENTS.items() for p in STAGE_OWNED if p not in overrides)
    shared = sorted(
        (parameter, values[a][parameter])
        for a, b in permutations(ENVIRONMENTS, 2)
        for parameter in STAGE_OWNED
        if values[a][parameter] == values[b][parameter]
    )
    # Then every stage names all of them, and no two stages share a key, an issuer or an audience
    assert missing == []
    assert shared == []


def test_each_stages_keys_live_under_its_own_path() -> None:
    # Given the key parameters each stage is deployed with
    names = {(env, p): deployed(env).parameters[p] for env in ENVIRONMENTS for p in KEY_PARAMETERS}
    # Then each is under /elements/<its stage>/ (so an IAM path grant of one stage never covers another's)
    stages = {env: deployed(env).parameters["Stage"] for env in ENVIRONMENTS}
    assert {k: name for k, name in names.items() if not name.startswith(f"/elements/{stages[k[0]]}/")} == {}


def test_the_template_has_no_default_for_what_a_stage_owns() -> None:
    # Given the template's parameters
    parameters = read(ROOT / "template.yaml")["Parameters"]
    # Then a deploy that forgets a stage-owned value fails instead of quietly taking dev's
    assert [p for p in STAGE_OWNED if p != "Stage" and "Default" in parameters[p]] == []


@pytest.mark.parametrize(("environment", "other"), list(permutations(ENVIRONMENTS, 2)))
def test_no_function_of_one_stage_may_read_another_stages_keys(environment: str, other: str) -> None:
    # Given one stage's stack and another stage's key parameters
    stack = deployed(environment)
    foreign = [ssm_parameter_arn(deployed(other).parameters[p]) for p in KEY_PARAMETERS]
    # When each function's role is asked for them
    readable = [
        (function, arn)
        for function in functions(stack)
        for arn in foreign
        if allows(stack, role_of(stack, function), "ssm:GetParameter", arn)
    ]
    # Then none may read them
    assert sorted(readable) == []
