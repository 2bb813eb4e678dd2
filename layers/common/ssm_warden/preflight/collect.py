"""Every AWS read ``ssm-warden preflight`` makes, in one place: read-only calls, caller's credentials.

``clients`` is a callable giving a boto3 client by service name (the command line's ``AwsContext``).
A section that cannot be read (access denied, an API the endpoint lacks) is recorded as unreadable
with the reason; the others are still read.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from ssm_warden.preflight.facts import (
    Facts,
    KeyPolicy,
    LambdaQuota,
    LogGroup,
    Node,
    Preferences,
    RoleWrite,
    SlackSecret,
    Trail,
)
from ssm_warden.preflight.fixes import PREFERENCES_DOCUMENT, STREAM_ACTIONS

Clients = Callable[[str], Any]
# Subscription filters ssm-warden's template creates are named after the command monitor's event.
WARDEN_FILTER_MARK = "CommandMonitorFunctionSessionLogs"


def _why(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and "Error" in response:
        error = response["Error"]
        return f"{error.get('Code')}: {error.get('Message', '')}".strip()
    return f"{type(exc).__name__}: {exc}"


def collect(
    clients: Clients,
    *,
    region: str,
    log_group: str,
    slack_secret: str | None,
    template_reserved: int,
    stack_functions: list[str] | None = None,
) -> Facts:
    facts = Facts(region=region, expected_log_group=log_group)
    try:
        facts.account = clients("sts").get_caller_identity()["Account"]
    except Exception as exc:
        facts.unreadable["account"] = _why(exc)
    sections: list[tuple[str, Callable[[], None]]] = [
        ("trails", lambda: setattr(facts, "trails", read_trails(clients))),
        ("preferences", lambda: setattr(facts, "preferences", read_preferences(clients))),
        ("log_group", lambda: setattr(facts, "log_group", read_log_group(clients, log_group))),
        ("nodes", lambda: _read_nodes(clients, facts)),
        ("key_policy", lambda: _read_key_policy(clients, facts)),
        (
            "lambda_quota",
            lambda: setattr(
                facts, "lambda_quota", read_lambda_quota(clients, template_reserved, stack_functions or [])
            ),
        ),
        ("slack", lambda: setattr(facts, "slack", read_slack_secret(clients, slack_secret))),
    ]
    for section, read in sections:
        try:
            read()
        except Exception as exc:
            facts.unreadable[section] = _why(exc)
    return facts


# -- CloudTrail ------------------------------------------------------------------------------------


def _management_writes(selectors: dict[str, Any]) -> bool | None:
    basic = selectors.get("EventSelectors")
    advanced = selectors.get("AdvancedEventSelectors")
    if basic:
        return any(
            s.get("IncludeManagementEvents", True) and s.get("ReadWriteType", "All") in ("All", "WriteOnly")
            for s in basic
        )
    if advanced:
        for selector in advanced:
            fields = {f["Field"]: f for f in selector.get("FieldSelectors", [])}
            category = fields.get("eventCategory", {}).get("Equals", [])
            read_only = fields.get("readOnly", {}).get("Equals", [])
            if "Management" in category and "true" not in read_only:
                return True
        return False
    return True  # a trail with no selectors logs all management events


def read_trails(clients: Clients) -> list[Trail]:
    cloudtrail = clients("cloudtrail")
    trails = []
    for t in cloudtrail.describe_trails(includeShadowTrails=True).get("trailList", []):
        arn = t.get("TrailARN") or t["Name"]
        try:
            logging: bool | None = bool(cloudtrail.get_trail_status(Name=arn).get("IsLogging"))
        except Exception:  # a trail of another region or account: its status is read at home
            logging = None
        try:
            writes = _management_writes(cloudtrail.get_event_selectors(TrailName=arn))
        except Exception:
            writes = None
        trails.append(
            Trail(
                name=t["Name"],
                home_region=t.get("HomeRegion"),
                multi_region=bool(t.get("IsMultiRegionTrail")),
                logging=logging,
                management_writes=writes,
            )
        )
    return trails


# -- Session Manager preferences and the log group ------------------------------------------------


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def read_preferences(clients: Clients) -> Preferences:
    ssm = clients("ssm")
    try:
        document = ssm.get_document(Name=PREFERENCES_DOCUMENT, DocumentFormat="JSON")
    except ssm.exceptions.InvalidDocument:
        return Preferences(exists=False)
    inputs = json.loads(document["Content"]).get("inputs", {})
    return Preferences(
        exists=True,
        log_group=inputs.get("cloudWatchLogGroupName") or None,
        streaming=_truthy(inputs.get("cloudWatchStreamingEnabled")),
        encryption_required=_truthy(inputs.get("cloudWatchEncryptionEnabled")),
    )


def read_log_group(clients: Clients, name: str) -> LogGroup:
    logs = clients("logs")
    found = next(
        (
            g
            for g in logs.describe_log_groups(logGroupNamePrefix=name).get("logGroups", [])
            if g["logGroupName"] == name
        ),
        None,
    )
    if found is None:
        return LogGroup(name=name, exists=False)
    filters = [
        f["filterName"]
        for f in logs.describe_subscription_filters(logGroupName=name).get("subscriptionFilters", [])
    ]
    return LogGroup(
        name=name,
        arn=found.get("arn"),
        exists=True,
        kms_key_id=found.get("kmsKeyId"),
        filters=filters,
        warden_filter=next((f for f in filters if WARDEN_FILTER_MARK in f), None),
    )


# -- managed nodes ---------------------------------------------------------------------------------


def _read_nodes(clients: Clients, facts: Facts) -> None:
    ssm, ec2 = clients("ssm"), clients("ec2")
    nodes: list[Node] = []
    for page in ssm.get_paginator("describe_instance_information").paginate():
        for info in page.get("InstanceInformationList", []):
            nodes.append(
                Node(
                    instance_id=info["InstanceId"],
                    agent_version=info.get("AgentVersion"),
                    platform=info.get("PlatformType"),
                    ping_status=info.get("PingStatus"),
                )
            )
    ec2_ids = [n.instance_id for n in nodes if n.instance_id.startswith("i-")]
    instances: dict[str, dict[str, Any]] = {}
    if ec2_ids:
        for page in ec2.get_paginator("describe_instances").paginate(InstanceIds=ec2_ids):
            for reservation in page.get("Reservations", []):
                for instance in reservation.get("Instances", []):
                    instances[instance["InstanceId"]] = instance
    group_arn = _log_group_arn(facts)
    role_cache: dict[str, RoleWrite | None] = {}
    route_cache: dict[str, bool | None] = {}
    for node in nodes:
        instance = instances.get(node.instance_id)
        if not instance:
            continue
        node.subnet_id, node.vpc_id = instance.get("SubnetId"), instance.get("VpcId")
        node.instance_profile_arn = (instance.get("IamInstanceProfile") or {}).get("Arn")
        if node.instance_profile_arn:
            if node.instance_profile_arn not in role_cache:
                role_cache[node.instance_profile_arn] = _role_write(
                    clients, node.instance_profile_arn, group_arn
                )
            node.role = role_cache[node.instance_profile_arn]
        if node.subnet_id and node.vpc_id:
            if node.subnet_id not in route_cache:
                route_cache[node.subnet_id] = _internet_route(ec2, node.subnet_id, node.vpc_id)
            node.internet_route = route_cache[node.subnet_id]
    facts.nodes = nodes
    vpcs = sorted({n.vpc_id for n in nodes if n.vpc_id and n.internet_route is False})
    if vpcs:
        service = f"com.amazonaws.{facts.region}.logs"
        endpoints = ec2.describe_vpc_endpoints(
            Filters=[{"Name": "vpc-id", "Values": vpcs}, {"Name": "service-name", "Values": [service]}]
        ).get("VpcEndpoints", [])
        facts.logs_endpoint_vpcs = sorted(
            {e["VpcId"] for e in endpoints if e.get("State", "available").lower() in ("available", "pending")}
        )


def _log_group_arn(facts: Facts) -> str:
    if facts.log_group and facts.log_group.arn:
        return facts.log_group.arn.removesuffix(":*")
    return f"arn:aws:logs:{facts.region}:{facts.account or '*'}:log-group:{facts.expected_log_group}"


def _internet_route(ec2: Any, subnet_id: str, vpc_id: str) -> bool | None:
    tables = ec2.describe_route_tables(Filters=[{"Name": "association.subnet-id", "Values": [subnet_id]}])[
        "RouteTables"
    ]
    if not tables:  # the subnet uses its VPC's main route table
        tables = ec2.describe_route_tables(
            Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "association.main", "Values": ["true"]}]
        )["RouteTables"]
    unsure = False
    for table in tables:
        for route in table.get("Routes", []):
            if route.get("DestinationCidrBlock") != "0.0.0.0/0" or route.get("State") == "blackhole":
                continue
            if str(route.get("GatewayId", "")).startswith("igw-") or route.get("NatGatewayId"):
                return True
            unsure = True  # a transit gateway, an appliance, a peering: cannot tell from here
    return None if unsure else False


def _role_write(clients: Clients, profile_arn: str, group_arn: str) -> RoleWrite | None:
    iam = clients("iam")
    profile_name = profile_arn.rsplit("/", 1)[-1]
    roles = iam.get_instance_profile(InstanceProfileName=profile_name)["InstanceProfile"].get("Roles", [])
    if not roles:
        return None
    role = roles[0]
    resource = f"{group_arn}:log-stream:session-id"
    try:
        results = iam.simulate_principal_policy(
            PolicySourceArn=role["Arn"], ActionNames=list(STREAM_ACTIONS), ResourceArns=[resource]
        )["EvaluationResults"]
        missing = [r["EvalActionName"] for r in results if r["EvalDecision"] != "allowed"]
        return RoleWrite(role_arn=role["Arn"], missing=missing, method="simulated")
    except Exception:  # no simulator, or not allowed to simulate: read the policies instead
        pass
    # No policy simulator (moto; or the caller may not simulate): read the role's policies and
    # evaluate their Allow statements simply (actions and resources with wildcards; Deny statements,
    # conditions, boundaries and SCPs ignored). None when they cannot be read either.
    try:
        statements = _role_statements(iam, role["RoleName"])
    except Exception:
        return None
    missing = [a for a in STREAM_ACTIONS if not _allowed(statements, a, resource)]
    return RoleWrite(role_arn=role["Arn"], missing=missing, method="policies read")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _role_statements(iam: Any, role_name: str) -> list[dict[str, Any]]:
    documents: list[Any] = []
    for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=role_name):
        for attached in page["AttachedPolicies"]:
            policy = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]
            version = iam.get_policy_version(
                PolicyArn=attached["PolicyArn"], VersionId=policy["DefaultVersionId"]
            )
            documents.append(version["PolicyVersion"]["Document"])
    for page in iam.get_paginator("list_role_policies").paginate(RoleName=role_name):
        for name in page["PolicyNames"]:
            documents.append(iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"])
    statements = []
    for raw in documents:
        # boto3 decodes policy documents; some endpoints hand them back URL-encoded
        document = json.loads(unquote(raw)) if isinstance(raw, str) else raw
        statements.extend(_as_list(document.get("Statement", [])))
    return statements


def _allowed(statements: list[dict[str, Any]], action: str, resource: str) -> bool:
    for s in statements:
        if s.get("Effect") != "Allow":
            continue
        actions = [a.lower() for a in _as_list(s.get("Action", []))]
        resources = _as_list(s.get("Resource", []))
        if any(fnmatch.fnmatchcase(action.lower(), a) for a in actions) and any(
            fnmatch.fnmatchcase(resource, r) for r in resources
        ):
            return True
    return False


# -- KMS, Lambda, Slack ------------------------------------------------------------------------


def _read_key_policy(clients: Clients, facts: Facts) -> None:
    group = facts.log_group
    if group is None or not group.kms_key_id:
        return
    policy = json.loads(clients("kms").get_key_policy(KeyId=group.kms_key_id, PolicyName="default")["Policy"])
    service = f"logs.{facts.region}.amazonaws.com"
    allows = False
    for s in _as_list(policy.get("Statement", [])):
        principal = s.get("Principal", {})
        services = _as_list(principal.get("Service", [])) if isinstance(principal, dict) else []
        actions = [a.lower() for a in _as_list(s.get("Action", []))]
        if (
            s.get("Effect") == "Allow"
            and (service in services or "logs.amazonaws.com" in services)
            and any(fnmatch.fnmatchcase("kms:generatedatakey", a) for a in actions)
        ):
            allows = True
    facts.key_policy = KeyPolicy(key_id=group.kms_key_id, allows_logs=allows)


def read_lambda_quota(clients: Clients, template_reserved: int, stack_functions: list[str]) -> LambdaQuota:
    lam = clients("lambda")
    settings = lam.get_account_settings()["AccountLimit"]
    already = 0
    for name in stack_functions:
        already += lam.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions") or 0
    return LambdaQuota(
        account_limit=settings["ConcurrentExecutions"],
        unreserved=settings["UnreservedConcurrentExecutions"],
        template_reserved=template_reserved,
        already_reserved=already,
    )


def read_slack_secret(clients: Clients, given: str | None) -> SlackSecret | None:
    if not given:
        return None
    if given.startswith("arn:"):
        return SlackSecret(given=given)
    sm = clients("secretsmanager")
    try:
        described = sm.describe_secret(SecretId=given)  # metadata only: the value is never read
    except sm.exceptions.ResourceNotFoundException:
        return SlackSecret(given=given, exists=False)
    return SlackSecret(given=given, exists=True, name=described.get("Name"))
