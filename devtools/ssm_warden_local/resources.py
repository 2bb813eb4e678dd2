"""Create the stack's resources in the local moto server as ``template.yaml`` defines them.

Reading the template (not a copy of its settings) keeps the local stack and the deployed one from
drifting: a key, an index or a queue added to the template appears here too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


class _CfnLoader(yaml.CSafeLoader):
    """A YAML loader that keeps CloudFormation's short-form intrinsics as {"Fn": value} dicts
    (libyaml's: every integration test reads the template, ten times faster than the pure-Python one)."""


def _intrinsic(loader: _CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    data: dict[str, Any] = yaml.load(path.read_text(), Loader=_CfnLoader)
    return data


@dataclass
class LocalStack:
    """Physical names of the resources made locally, by logical id."""

    tables: dict[str, str] = field(default_factory=dict)
    queues: dict[str, str] = field(default_factory=dict)  # logical id -> queue URL
    queue_arns: dict[str, str] = field(default_factory=dict)

    def environment(self) -> dict[str, str]:
        """The environment variables the template gives the functions, with local names."""
        env = {}
        if "SessionsTable" in self.tables:
            env["SESSIONS_TABLE"] = self.tables["SessionsTable"]
        if "AuditTable" in self.tables:
            env["AUDIT_TABLE"] = self.tables["AuditTable"]
        if "IdempotencyTable" in self.tables:
            env["IDEMPOTENCY_TABLE"] = self.tables["IdempotencyTable"]
        if "ActionQueue" in self.queues:
            env["ACTIONS_QUEUE_URL"] = self.queues["ActionQueue"]
        return env


def _table_args(logical_id: str, props: dict[str, Any], prefix: str) -> dict[str, Any]:
    args: dict[str, Any] = {
        "TableName": f"{prefix}-{logical_id}",
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if props.get("GlobalSecondaryIndexes"):
        args["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    return args


def create_stack_resources(
    client_factory: Any, prefix: str = "ssm-warden", template: Path = TEMPLATE
) -> LocalStack:
    """Create every DynamoDB table and SQS queue of the template; returns their local names."""
    resources = load_template(template)["Resources"]
    stack = LocalStack()
    dynamodb = client_factory("dynamodb")
    sqs = client_factory("sqs")
    for logical_id, resource in resources.items():
        kind, props = resource["Type"], resource.get("Properties", {})
        if kind == "AWS::DynamoDB::Table":
            args = _table_args(logical_id, props, prefix)
            dynamodb.create_table(**args)
            ttl = props.get("TimeToLiveSpecification")
            if ttl and ttl.get("Enabled"):
                dynamodb.update_time_to_live(
                    TableName=args["TableName"],
                    TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
                )
            stack.tables[logical_id] = args["TableName"]
    # Queues after tables; dead-letter queues first so redrive policies can name them.
    queues = {k: v for k, v in resources.items() if v["Type"] == "AWS::SQS::Queue"}
    ordered = sorted(queues, key=lambda k: "RedrivePolicy" in queues[k].get("Properties", {}))
    for logical_id in ordered:
        props = queues[logical_id].get("Properties", {})
        attributes: dict[str, str] = {}
        if "VisibilityTimeout" in props:
            attributes["VisibilityTimeout"] = str(props["VisibilityTimeout"])
        redrive = props.get("RedrivePolicy")
        if redrive:
            target = redrive["deadLetterTargetArn"]
            target_id = (
                target["Fn::GetAtt"][0]
                if isinstance(target["Fn::GetAtt"], list)
                else (target["Fn::GetAtt"].split(".")[0])
            )
            attributes["RedrivePolicy"] = (
                f'{{"deadLetterTargetArn": "{stack.queue_arns[target_id]}", '
                f'"maxReceiveCount": "{redrive["maxReceiveCount"]}"}}'
            )
        name = f"{prefix}-{logical_id}"
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        stack.queues[logical_id] = url
        stack.queue_arns[logical_id] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
    return stack


def local_action_target_arn(action_id: str, account: str = "123456789012", region: str = "us-east-1") -> str:
    """The ARN a Security Hub custom action (``AWS::SecurityHub::ActionTarget``) has in the local stack."""
    return f"arn:aws:securityhub:{region}:{account}:action/custom/{action_id}"


def _resolve_refs(value: Any, resources: dict[str, Any]) -> Any:
    """Patterns may name a custom action by ``!Ref``: resolved to its local ARN."""
    if isinstance(value, dict):
        ref = value.get("Ref")
        target = resources.get(ref) if isinstance(ref, str) and len(value) == 1 else None
        if target and target["Type"] == "AWS::SecurityHub::ActionTarget":
            return local_action_target_arn(target["Properties"]["Id"])
        return {k: _resolve_refs(v, resources) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_refs(v, resources) for v in value]
    return value


def event_patterns(template: Path = TEMPLATE) -> dict[str, dict[str, Any]]:
    """Every EventBridge pattern in the template, by '<function logical id>.<event name>'."""
    patterns = {}
    resources = load_template(template)["Resources"]
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for event_name, event in (resource["Properties"].get("Events") or {}).items():
            if event["Type"] == "EventBridgeRule":
                pattern = _resolve_refs(event["Properties"]["Pattern"], resources)
                patterns[f"{logical_id}.{event_name}"] = pattern
    return patterns
