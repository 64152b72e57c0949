"""Deploy-time checks of the data tier's network: every call made from inside the VPC has a way out.

The VPC has no NAT: an AWS API is reachable from it only through an endpoint, and only if the caller's
security group may send to it and the endpoint's admits the caller. infra/vpc_calls.py lists the calls.
"""

from __future__ import annotations

import pytest

from infra.vpc_calls import VPC_CALLS
from tests.support.cfn import Stack, as_list, deployed, environment, functions, stage_environments, statements
from tests.support.network import HTTPS, POSTGRES, endpoints, locate, passes, route_table_of, rules, vpc_callers

ENVIRONMENTS = sorted(stage_environments())
SHIPPED_BY_LAMBDA = {"logs", "xray"}  # written by Lambda's own agent, not through the function's interface


def vpc_cidr(root: Stack, subnet: str) -> str:
    stack, name = locate(root, subnet)
    vpc = stack.resolve(stack.props(name)["VpcId"])
    return str(stack.resolve(stack.props(locate(root, vpc)[1])["CidrBlock"]))


def caller_role(root: Stack, caller: str) -> tuple[Stack, str]:
    if caller in root.resources:
        return root, str(root.props(caller)["Role"]["Fn::GetAtt"][0])
    stack, name = locate(root, f"<<{caller}>>")
    return locate(root, str(stack.resolve(stack.props(name)["RoleArn"])))


def reachable(root: Stack, subnets: list[str], groups: list[str], service: str) -> bool:
    """Whether a caller in ``subnets`` with ``groups`` reaches ``service``'s endpoint over HTTPS."""
    endpoint = endpoints(root, subnets[0]).get(service)
    if endpoint is None:
        return False
    if endpoint.get("VpcEndpointType", "Gateway") == "Gateway":  # a route to the service's public addresses
        routed = {route_table_of(root, s) for s in subnets} <= set(endpoint["RouteTableIds"])
        return routed and any(r.allows(HTTPS, "", "0.0.0.0/0") for g in groups for r in rules(root, g, "egress"))
    in_every_subnet = set(subnets) <= set(endpoint["SubnetIds"])
    path = passes(root, groups, endpoint["SecurityGroupIds"], HTTPS, vpc_cidr(root, subnets[0]))
    return bool(endpoint.get("PrivateDnsEnabled")) and in_every_subnet and path


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_the_list_of_vpc_calls_names_every_caller_in_the_vpc(env_name: str) -> None:
    # Given every function and proxy with a network interface in the VPC
    callers = vpc_callers(deployed(env_name))
    # Then infra/vpc_calls.py says what each of them calls, and lists nothing else
    assert sorted(callers) == sorted(VPC_CALLS)


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_every_service_a_vpc_caller_may_call_is_in_the_list(env_name: str) -> None:
    # Given the services each VPC caller's IAM role grants actions of
    root = deployed(env_name)
    granted: dict[str, set[str]] = {}
    for caller in vpc_callers(root):
        stack, role = caller_role(root, caller)
        actions = [a for s in statements(stack, role) if s.get("Effect") == "Allow" for a in as_list(s["Action"])]
        granted[caller] = {str(a).split(":", 1)[0] for a in actions} - SHIPPED_BY_LAMBDA
    # Then each is a listed call (so each is checked for a way out below)
    assert {c: sorted(s - set(VPC_CALLS[c])) for c, s in granted.items() if s - set(VPC_CALLS[c])} == {}


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_each_vpc_call_has_an_endpoint_and_a_security_group_path(env_name: str) -> None:
    # Given the VPC's callers and the calls they make
    root = deployed(env_name)
    # When each call is followed from the caller's subnets and security groups to a VPC endpoint
    blocked = [
        (caller, service)
        for caller, (subnets, groups) in vpc_callers(root).items()
        for service in VPC_CALLS[caller]
        if not reachable(root, subnets, groups, service)
    ]
    # Then every call gets through: a gateway endpoint on the subnets' routes, or an interface
    # endpoint in every subnet whose security group admits the caller's
    assert blocked == []


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_every_database_user_reaches_aurora_through_rds_proxy(env_name: str) -> None:
    # Given the functions configured with the database host
    root = deployed(env_name)
    users = [name for name in functions(root) if "DATABASE_HOST" in environment(root, name)]
    assert users
    for name in users:
        # When the path function → RDS Proxy → Aurora is followed on PostgreSQL's port
        stack, proxy = locate(root, str(environment(root, name)["DATABASE_HOST"]))
        proxy_groups = stack.resolve(stack.props(proxy)["VpcSecurityGroupIds"])
        subnets, groups = vpc_callers(root)[name]
        network = vpc_cidr(root, subnets[0])
        (targets,) = stack.of_type("AWS::RDS::DBProxyTargetGroup").values()
        clusters = [locate(root, c)[1] for c in stack.resolve(targets["Properties"]["DBClusterIdentifiers"])]
        cluster_groups = [g for c in clusters for g in stack.resolve(stack.props(c)["VpcSecurityGroupIds"])]
        # Then each hop's security groups let it through
        assert passes(root, groups, proxy_groups, POSTGRES, network), name
        assert passes(root, proxy_groups, cluster_groups, POSTGRES, network), name


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
def test_the_database_credentials_rotate_and_the_proxy_and_functions_use_the_same_secret(env_name: str) -> None:
    # Given the data tier's cluster and proxy, and the secret the functions read
    root = deployed(env_name)
    data = root.nested["Database"]
    (proxy,) = data.of_type("AWS::RDS::DBProxy").values()
    (cluster_name, cluster) = next(iter(data.of_type("AWS::RDS::DBCluster").items()))
    proxy_secret = data.resolve(proxy["Properties"]["Auth"][0]["SecretArn"])
    function_secret = environment(root, "FluorineFunction")["DATABASE_SECRET_ARN"]
    rotations = [
        data.resolve(r["Properties"]["SecretId"])
        for r in data.of_type("AWS::SecretsManager::RotationSchedule").values()
    ]
    # Then the proxy logs in with the secret the functions read, and that secret rotates: RDS
    # manages it (ManageMasterUserPassword: rotated every 7 days) or a rotation schedule does
    managed = cluster["Properties"].get("ManageMasterUserPassword") is True
    assert proxy_secret == function_secret
    assert (
        managed and proxy_secret == data.token(f"{cluster_name}.MasterUserSecret.SecretArn")
    ) or proxy_secret in rotations
