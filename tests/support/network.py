"""What a resolved stack (tests/support/cfn.py) lets through its VPC: security groups, endpoints, routes."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from tests.support.cfn import TOKEN, Stack, functions

HTTPS, POSTGRES = 443, 5432


def locate(root: Stack, token: str) -> tuple[Stack, str]:
    """The stack and logical id a resource token names (``<<Database/X>>`` is X in the nested stack Database)."""
    (name,) = TOKEN.findall(token)
    name = name.split(".", 1)[0]
    if "/" in name:
        nested, name = name.split("/", 1)
        return root.nested[nested], name
    return root, name


@dataclass(frozen=True)
class Rule:
    protocol: str
    from_port: int
    to_port: int
    group: str | None  # the peer security group's token
    cidr: str | None

    def allows(self, port: int, group: str, network: str) -> bool:
        """Whether this rule lets ``port`` through to (or from) ``group``, whose members are in ``network``."""
        if self.protocol not in ("-1", "tcp", "6"):
            return False
        if self.protocol != "-1" and not self.from_port <= port <= self.to_port:
            return False
        if self.group is not None:
            return self.group == group
        return self.cidr is not None and ipaddress.ip_network(network).subnet_of(ipaddress.ip_network(self.cidr))


def _rule(stack: Stack, raw: dict[str, Any], peer_key: str) -> Rule:
    resolved = stack.resolve(raw)
    protocol = str(resolved["IpProtocol"])
    return Rule(
        protocol,
        int(resolved.get("FromPort", -1)),
        int(resolved.get("ToPort", -1)),
        resolved.get(peer_key),
        resolved.get("CidrIp"),
    )


def rules(root: Stack, group: str, direction: str) -> list[Rule]:
    """A security group's ingress or egress rules, inline or separate; egress never declared allows everything."""
    stack, name = locate(root, group)
    inline_key, peer_key = (
        ("SecurityGroupIngress", "SourceSecurityGroupId")
        if direction == "ingress"
        else ("SecurityGroupEgress", "DestinationSecurityGroupId")
    )
    found = [_rule(stack, raw, peer_key) for raw in stack.props(name).get(inline_key, [])]
    separate = f"AWS::EC2::SecurityGroup{direction.capitalize()}"
    for resource in stack.of_type(separate).values():
        if stack.resolve(resource["Properties"]["GroupId"]) == group:
            found.append(_rule(stack, resource["Properties"], peer_key))
    if direction == "egress" and not found:
        return [Rule("-1", -1, -1, None, "0.0.0.0/0")]
    return found


def passes(root: Stack, source_groups: list[str], target_groups: list[str], port: int, network: str) -> bool:
    """Whether some source group may send to some target group on ``port``, and that target admits it."""
    return any(
        any(r.allows(port, target, network) for r in rules(root, source, "egress"))
        and any(r.allows(port, source, network) for r in rules(root, target, "ingress"))
        for source in source_groups
        for target in target_groups
    )


def vpc_callers(root: Stack) -> dict[str, tuple[list[str], list[str]]]:
    """Everything with a network interface in the VPC that calls out: (subnets, security groups) by caller."""
    callers: dict[str, tuple[list[str], list[str]]] = {}
    for name, function in functions(root).items():
        if vpc := function["Properties"].get("VpcConfig"):
            callers[name] = (root.resolve(vpc["SubnetIds"]), root.resolve(vpc["SecurityGroupIds"]))
    for nested_name, nested in root.nested.items():
        for name, proxy in nested.of_type("AWS::RDS::DBProxy").items():
            props = nested.resolve(proxy["Properties"])
            callers[f"{nested_name}/{name}"] = (props["VpcSubnetIds"], props["VpcSecurityGroupIds"])
    return callers


def endpoints(root: Stack, subnet: str) -> dict[str, dict[str, Any]]:
    """The VPC endpoints in the stack holding ``subnet``, by service (``dynamodb``, ``secretsmanager``...)."""
    stack, _ = locate(root, subnet)
    found: dict[str, dict[str, Any]] = {}
    for endpoint in stack.of_type("AWS::EC2::VPCEndpoint").values():
        props = stack.resolve(endpoint["Properties"])
        found[str(props["ServiceName"]).rsplit(".", 1)[-1]] = props
    return found


def route_table_of(root: Stack, subnet: str) -> str | None:
    stack, _ = locate(root, subnet)
    for association in stack.of_type("AWS::EC2::SubnetRouteTableAssociation").values():
        props = stack.resolve(association["Properties"])
        if props["SubnetId"] == subnet:
            return str(props["RouteTableId"])
    return None
