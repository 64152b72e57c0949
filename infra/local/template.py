"""Reads template.yaml (CloudFormation tags included) into what the local stack needs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

INTRINSICS = (
    "Ref",
    "GetAtt",
    "Sub",
    "Select",
    "Split",
    "Join",
    "If",
    "Equals",
    "Not",
    "FindInMap",
    "ImportValue",
    "GetAZs",
    "Base64",
    "Cidr",
    "And",
    "Or",
    "Condition",
)


class _CfnLoader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML ships no type information
    pass


def _intrinsic(name: str) -> Any:
    key = name if name in ("Ref", "Condition") else f"Fn::{name}"

    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if name == "GetAtt":
                value = str(value).split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {key: value}

    return construct


for _name in INTRINSICS:
    _CfnLoader.add_constructor(f"!{_name}", _intrinsic(_name))


@dataclass(frozen=True)
class Route:
    function: str
    method: str
    path: str
    public: bool

    @property
    def pattern(self) -> re.Pattern[str]:
        regex = re.sub(r"\{(\w+)\+\}", r"(?P<\1>.+)", self.path)
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", regex)
        return re.compile(f"^{regex}$")

    @property
    def specificity(self) -> tuple[int, int]:
        """API Gateway prefers literal segments over variables, and longer paths."""
        segments = self.path.strip("/").split("/")
        return (sum(not s.startswith("{") for s in segments), len(segments))


@dataclass
class Function:
    name: str
    handler: str
    environment: dict[str, Any] = field(default_factory=dict)
    schedules: list[str] = field(default_factory=list)
    streams: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Template:
    raw: dict[str, Any]
    functions: dict[str, Function]
    routes: list[Route]
    authorizer_function: str | None
    gateway_responses: dict[str, dict[str, Any]]
    tables: dict[str, dict[str, Any]]
    websocket_function: str | None = None  # the function behind the WebSocket API's routes


def function_of(reference: dict[str, Any]) -> str:
    """The logical id behind ``!GetAtt Fn.Arn``, ``!Ref Fn`` or ``!Ref Fn.Alias``."""
    if "Fn::GetAtt" in reference:
        return str(reference["Fn::GetAtt"][0])
    return str(reference["Ref"]).split(".", 1)[0]


def read(path: Path) -> dict[str, Any]:
    """A CloudFormation YAML file as a dict, its short-form tags (``!Ref``, ``!Sub``...) as their long forms."""
    return yaml.load(path.read_text(), Loader=_CfnLoader)  # type: ignore[no-any-return]  # noqa: S506 - a SafeLoader subclass


def load(path: Path) -> Template:
    raw = read(path)
    resources: dict[str, Any] = raw["Resources"]
    global_env = raw.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    functions: dict[str, Function] = {}
    routes: list[Route] = []
    authorizer: str | None = None
    responses: dict[str, Any] = {}
    for name, resource in resources.items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function":
            fn = Function(name, props["Handler"], {**global_env, **props.get("Environment", {}).get("Variables", {})})
            for event in props.get("Events", {}).values():
                ep = event.get("Properties", {})
                if event["Type"] == "Api":
                    public = ep.get("Auth", {}).get("Authorizer") == "NONE"
                    routes.append(Route(name, ep["Method"].upper(), ep["Path"], public))
                elif event["Type"] == "Schedule":
                    fn.schedules.append(ep["Schedule"])
                elif event["Type"] == "DynamoDB":
                    fn.streams.append(ep)
            functions[name] = fn
        elif resource["Type"] == "AWS::Serverless::Api":
            auth = props.get("Auth", {})
            default = auth.get("DefaultAuthorizer")
            if default:
                authorizer = function_of(auth["Authorizers"][default]["FunctionArn"])
            responses = props.get("GatewayResponses", {})
    tables = {n: r["Properties"] for n, r in resources.items() if r["Type"] == "AWS::DynamoDB::Table"}
    routes.sort(key=lambda r: r.specificity, reverse=True)
    return Template(raw, functions, routes, authorizer, responses, tables, _websocket_function(resources))


def _websocket_function(resources: dict[str, Any]) -> str | None:
    """The function a WebSocket API's Lambda integration invokes (``!Sub [..., {Alias: !Ref Fn.Alias}]``)."""
    for resource in resources.values():
        if resource["Type"] != "AWS::ApiGatewayV2::Integration":
            continue
        uri = resource["Properties"].get("IntegrationUri", {}).get("Fn::Sub")
        if isinstance(uri, list) and len(uri) == 2:
            for value in uri[1].values():
                if isinstance(value, dict) and "Ref" in value:
                    return function_of(value)
    return None
