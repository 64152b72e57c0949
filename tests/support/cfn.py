"""template.yaml as CloudFormation receives it, without AWS: translated by samtranslator (the library
``sam deploy`` runs) with one samconfig.toml stage's parameters, intrinsic functions resolved.

Parameters and pseudo parameters resolve to values, so an ARN built from a parameter comes out as the
string IAM will compare. Resources resolve to tokens: ``Ref X`` is ``<<X>>`` and ``GetAtt X.Attr`` is
``<<X.Attr>>``; a nested stack's are prefixed with its logical id (``<<Database/ProxySecurityGroup>>``).
"""

from __future__ import annotations

import fnmatch
import ipaddress
import os
import re
import shlex
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from infra.local.template import read

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"
NO_VALUE: Any = object()  # AWS::NoValue: dropped from the list or map holding it
TOKEN = re.compile(r"<<([^<>]+)>>")


def region() -> str:
    return os.environ["AWS_DEFAULT_REGION"]


def ssm_parameter_arn(name: str) -> str:
    """An SSM parameter's ARN: ``parameter`` followed by its name, whose leading slash is the separator."""
    return f"arn:aws:ssm:{region()}:{ACCOUNT}:parameter{name if name.startswith('/') else '/' + name}"


def samconfig() -> dict[str, Any]:
    return tomllib.loads((ROOT / "samconfig.toml").read_text())


def stage_environments() -> dict[str, dict[str, str]]:
    """Each samconfig environment that deploys, with its parameter overrides."""
    environments: dict[str, dict[str, str]] = {}
    for name, commands in samconfig().items():
        if isinstance(commands, dict) and "deploy" in commands:
            overrides = commands["deploy"]["parameters"].get("parameter_overrides", [])
            items = overrides if isinstance(overrides, list) else shlex.split(overrides)
            environments[name] = dict(item.split("=", 1) for item in items)
    return environments


def stack_name(environment: str) -> str:
    commands = samconfig()[environment]
    return str({**commands.get("global", {}).get("parameters", {}), **commands["deploy"]["parameters"]}["stack_name"])


class _NoManagedPolicies:
    """The template names no managed policy by name (policy templates and ARNs only): nothing to look up in IAM."""

    def load(self) -> dict[str, str]:
        return {}


def _packaged(sam: dict[str, Any]) -> dict[str, Any]:
    """What ``sam package`` would hand CloudFormation: local code and templates replaced by S3 locations."""
    for resource in sam["Resources"].values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function":
            props["CodeUri"] = "s3://artifacts/functions.zip"
        elif resource["Type"] == "AWS::Serverless::LayerVersion":
            props["ContentUri"] = "s3://artifacts/layer.zip"
        elif resource["Type"] == "AWS::Serverless::Application":
            props["Location"] = f"https://artifacts.s3.amazonaws.com/{props['Location']}"
    return sam


@cache
def deployed(environment: str) -> Stack:
    """The stack ``sam deploy --config-env <environment>`` would create, as CloudFormation sees it."""
    from samtranslator.translator.transform import transform

    sam = read(ROOT / "template.yaml")
    nested = {
        name: str(r["Properties"]["Location"])
        for name, r in sam["Resources"].items()
        if r["Type"] == "AWS::Serverless::Application"
    }
    overrides = stage_environments()[environment]
    cfn = transform(_packaged(sam), dict(overrides), _NoManagedPolicies())  # type: ignore[arg-type]
    stack = Stack(cfn, _values(cfn, overrides), stack_name(environment))
    for name, location in nested.items():
        props = cfn["Resources"][name]["Properties"]
        given = {k: str(stack.resolve(v)) for k, v in props.get("Parameters", {}).items()}
        child = read(ROOT / location)
        stack.nested[name] = Stack(child, _values(child, given), f"{stack.name}-{name}", prefix=f"{name}/")
    return stack


def _values(template: dict[str, Any], given: dict[str, str]) -> dict[str, str]:
    declared = template.get("Parameters", {})
    return {name: str(given.get(name, spec.get("Default"))) for name, spec in declared.items()}


@dataclass
class Stack:
    template: dict[str, Any]
    parameters: dict[str, str]
    name: str
    prefix: str = ""
    nested: dict[str, Stack] = field(default_factory=dict)

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template["Resources"]  # type: ignore[no-any-return]

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {name: r for name, r in self.resources.items() if r["Type"] == kind}

    def props(self, name: str) -> dict[str, Any]:
        return self.resources[name].get("Properties", {})  # type: ignore[no-any-return]

    def token(self, name: str) -> str:
        return f"<<{self.prefix}{name}>>"

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [r for r in (self.resolve(v) for v in value) if r is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key in _INTRINSICS:
                return _INTRINSICS[key](self, argument)
        return {k: r for k, v in value.items() if (r := self.resolve(v)) is not NO_VALUE}

    def ref(self, name: str) -> Any:
        pseudo = {
            "AWS::Region": region(),
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": self.name,
            "AWS::NoValue": NO_VALUE,
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            spec = self.template["Parameters"][name]
            return self.parameters[name].split(",") if spec["Type"] == "CommaDelimitedList" else self.parameters[name]
        if name not in self.resources:
            raise KeyError(f"Ref to nothing: {name}")
        return self.token(name)

    def get_att(self, argument: Any) -> Any:
        name, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
        if name in self.nested and attribute.startswith("Outputs."):
            child = self.nested[name]
            return child.resolve(child.template["Outputs"][attribute.removeprefix("Outputs.")]["Value"])
        if name not in self.resources:
            raise KeyError(f"GetAtt of nothing: {name}")
        return self.token(f"{name}.{attribute}")

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.template["Conditions"][name]))

    def sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        values = {k: self.resolve(v) for k, v in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in values:
                return str(values[name])
            return str(self.get_att(name) if "." in name and not name.startswith("AWS::") else self.ref(name))

        return re.sub(r"\$\{([^}]+)\}", replace, text)


def _cidr(stack: Stack, argument: list[Any]) -> list[str]:
    block, count, bits = (stack.resolve(a) for a in argument)
    network = ipaddress.ip_network(block)
    return [str(n) for n in network.subnets(new_prefix=network.max_prefixlen - int(bits))][: int(count)]


_INTRINSICS: dict[str, Any] = {
    "Ref": lambda s, a: s.ref(a),
    "Fn::GetAtt": lambda s, a: s.get_att(a),
    "Fn::Sub": lambda s, a: s.sub(a),
    "Fn::Join": lambda s, a: str(a[0]).join(str(x) for x in s.resolve(a[1])),
    "Fn::Split": lambda s, a: str(s.resolve(a[1])).split(a[0]),
    "Fn::Select": lambda s, a: s.resolve(a[1])[int(s.resolve(a[0]))],
    "Fn::If": lambda s, a: s.resolve(a[1] if s.condition(a[0]) else a[2]),
    "Fn::Equals": lambda s, a: str(s.resolve(a[0])) == str(s.resolve(a[1])),
    "Fn::Not": lambda s, a: not s.resolve(a[0]),
    "Fn::And": lambda s, a: all(s.resolve(x) for x in a),
    "Fn::Or": lambda s, a: any(s.resolve(x) for x in a),
    "Condition": lambda s, a: s.condition(a),
    "Fn::GetAZs": lambda s, a: [f"{region()}{zone}" for zone in "abc"],
    "Fn::Cidr": _cidr,
    "Fn::FindInMap": lambda s, a: s.template["Mappings"][a[0]][s.resolve(a[1])][s.resolve(a[2])],
    "Fn::Base64": lambda s, a: s.resolve(a),
}


def parameters_in(stack: Stack, value: Any) -> set[str]:
    """The template parameters an (unresolved) expression is built from."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= parameters_in(stack, item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref" and item in stack.parameters:
                found.add(item)
            elif key == "Fn::Sub":
                text = item if isinstance(item, str) else item[0]
                found |= {n for n in re.findall(r"\$\{([^}!.]+)\}", text) if n in stack.parameters}
            found |= parameters_in(stack, item)
    return found


def role_of(stack: Stack, function: str) -> str:
    """The logical id of a function's execution role."""
    role = stack.props(function)["Role"]
    return str(role["Fn::GetAtt"][0])


def statements(stack: Stack, role: str) -> list[dict[str, Any]]:
    """Every inline policy statement of a role (raw), including AWS::IAM::Policy resources attached to it."""
    documents = [p["PolicyDocument"] for p in stack.props(role).get("Policies", [])]
    for policy in stack.of_type("AWS::IAM::Policy").values():
        if {"Ref": role} in policy["Properties"].get("Roles", []):
            documents.append(policy["Properties"]["PolicyDocument"])
    found: list[dict[str, Any]] = []
    for document in documents:
        body = document["Statement"]
        found.extend(body if isinstance(body, list) else [body])
    return found


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def allows(stack: Stack, role: str, action: str, resource: str) -> bool:
    """Whether a role's own policies allow ``action`` on ``resource`` (IAM wildcards, no conditions)."""
    for statement in statements(stack, role):
        if statement.get("Effect") != "Allow":
            continue
        actions = [str(a).lower() for a in as_list(statement.get("Action", []))]
        resources = [str(r) for r in as_list(stack.resolve(statement.get("Resource", [])))]
        if any(fnmatch.fnmatchcase(action.lower(), a) for a in actions) and any(
            fnmatch.fnmatchcase(resource, r) for r in resources
        ):
            return True
    return False


def functions(stack: Stack) -> dict[str, dict[str, Any]]:
    return stack.of_type("AWS::Lambda::Function")


def environment(stack: Stack, function: str) -> dict[str, Any]:
    return stack.resolve(stack.props(function).get("Environment", {}).get("Variables", {}))  # type: ignore[no-any-return]


def aliased_function(stack: Stack, target: Any) -> str | None:
    """The function behind a reference if it names an alias ``live`` of it, else None."""
    names = TOKEN.findall(str(stack.resolve(target)))
    for name in names:
        resource = stack.resources.get(name.removesuffix(".Arn"))
        if resource and resource["Type"] == "AWS::Lambda::Alias" and resource["Properties"]["Name"] == "live":
            return str(resource["Properties"]["FunctionName"]["Ref"])
    return None
