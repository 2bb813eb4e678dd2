"""Every IAM policy of the SAM templates through parliament (an offline IAM linter).

parliament reads IAM policy JSON, not SAM: this extracts each policy document of a template (the
inline ``Statement`` documents of a function's SAM ``Policies``, the policies of ``AWS::IAM::*``
resources, and the resource policies of queues, event buses and Logs destinations), replaces the
intrinsic functions (``Ref``, ``Fn::GetAtt``, ``Fn::Sub``, ``Fn::If``, ``Fn::Join``, ``Fn::Split``,
``Fn::Select``) with concrete placeholder values of the right shape (a table ARN for a table's
``Arn``, a queue URL for a queue's ``Ref``, ...), and lints the result. Each template is resolved
twice, once with every condition true and once with every condition false, so that both branches of
every ``Fn::If`` are checked.

    python -m ssm_warden_local.iam_lint template.yaml template-member.yaml

Exit status 1 when parliament reports anything (each finding is printed with the template, the
resource and the policy it is in). parliament runs in ``.venv-lint`` (``make lint-template``); the
extraction needs only PyYAML.
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ssm_warden_local.resources import load_template

REGION = "us-east-1"
ACCOUNT = "123456789012"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"

PSEUDO = {
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::Partition": "aws",
    "AWS::StackName": "ssm-warden",
    "AWS::StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/ssm-warden/guid",
    "AWS::URLSuffix": "amazonaws.com",
}

# Example values for parameters whose default is empty (an empty default is not a usable name).
PARAMETER_EXAMPLES: dict[str, Any] = {
    "KmsKeyArn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{KEY_ID}",
    "AlarmTopicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:ssm-warden-alarms",
    "PolicyParameterName": "/ssm-warden/policy",
    "OrganizationId": "o-exampleorgid",
    "MemberExternalId": "example-external-id",
    "MemberAccounts": "111111111111,222222222222",
    "ExternalId": "example-external-id",
    "GovernanceAccountId": "210987654321",
    "GovernanceEventBusArn": f"arn:aws:events:{REGION}:210987654321:event-bus/default",
    "SessionLogDestinationArn": f"arn:aws:logs:{REGION}:210987654321:destination:ssm-warden-session-logs",
    "GovernanceTerminateRoleArns": [
        "arn:aws:iam::210987654321:role/ssm-warden-ActionExecutorFunctionRole-ABC"
    ],
    "GovernanceReadRoleArns": [
        "arn:aws:iam::210987654321:role/ssm-warden-SessionEventsFunctionRole-GHI",
        "arn:aws:iam::210987654321:role/ssm-warden-SessionSweeperFunctionRole-DEF",
    ],
    "SlackSecretName": "ssm-warden/slack",
}

# What ``Ref`` returns, by resource type ({id} is the logical id).
REF_SHAPES = {
    "AWS::SQS::Queue": "https://sqs.{region}.amazonaws.com/{account}/{id}",
    "AWS::DynamoDB::Table": "{id}",
    "AWS::SNS::Topic": "arn:aws:sns:{region}:{account}:{id}",
    "AWS::KMS::Key": KEY_ID,
    "AWS::IAM::Role": "{id}",
    "AWS::IAM::ManagedPolicy": "arn:aws:iam::{account}:policy/{id}",
    "AWS::Serverless::Function": "{id}",
    "AWS::Lambda::Function": "{id}",
    "AWS::Serverless::LayerVersion": "arn:aws:lambda:{region}:{account}:layer:{id}:1",
    "AWS::Kinesis::Stream": "{id}",
    "AWS::Logs::LogGroup": "{id}",
    "AWS::Logs::Destination": "{id}",
    "AWS::Events::Rule": "{id}",
    "AWS::Events::EventBus": "{id}",
    "AWS::SecretsManager::Secret": "arn:aws:secretsmanager:{region}:{account}:secret:{id}-AbCdEf",
    "AWS::SSM::Parameter": "{id}",
}

# What ``Fn::GetAtt`` returns, by resource type and attribute.
GETATT_SHAPES = {
    ("AWS::DynamoDB::Table", "Arn"): "arn:aws:dynamodb:{region}:{account}:table/{id}",
    (
        "AWS::DynamoDB::Table",
        "StreamArn",
    ): "arn:aws:dynamodb:{region}:{account}:table/{id}/stream/2026-01-01T00:00:00.000",
    ("AWS::SQS::Queue", "Arn"): "arn:aws:sqs:{region}:{account}:{id}",
    ("AWS::SQS::Queue", "QueueName"): "{id}",
    ("AWS::SQS::Queue", "QueueUrl"): "https://sqs.{region}.amazonaws.com/{account}/{id}",
    ("AWS::IAM::Role", "Arn"): "arn:aws:iam::{account}:role/{id}",
    ("AWS::Kinesis::Stream", "Arn"): "arn:aws:kinesis:{region}:{account}:stream/{id}",
    ("AWS::Logs::LogGroup", "Arn"): "arn:aws:logs:{region}:{account}:log-group:{id}:*",
    ("AWS::Logs::Destination", "Arn"): "arn:aws:logs:{region}:{account}:destination:{id}",
    ("AWS::Serverless::Function", "Arn"): "arn:aws:lambda:{region}:{account}:function:{id}",
    ("AWS::Lambda::Function", "Arn"): "arn:aws:lambda:{region}:{account}:function:{id}",
    ("AWS::Events::Rule", "Arn"): "arn:aws:events:{region}:{account}:rule/{id}",
    ("AWS::Events::EventBus", "Arn"): "arn:aws:events:{region}:{account}:event-bus/{id}",
    ("AWS::SNS::Topic", "TopicArn"): "arn:aws:sns:{region}:{account}:{id}",
    ("AWS::KMS::Key", "Arn"): "arn:aws:kms:{region}:{account}:key/" + KEY_ID,
    ("AWS::SecretsManager::Secret", "Id"): "arn:aws:secretsmanager:{region}:{account}:secret:{id}-AbCdEf",
}

# Findings parliament reports on policies that AWS documents as correct.
KNOWN_FALSE_POSITIVES = {
    # A Logs destination's access policy names the destination; parliament requires a log group
    # for logs:PutSubscriptionFilter, which the sender's own identity policy grants.
    ("AWS::Logs::Destination", "RESOURCE_MISMATCH", "logs:PutSubscriptionFilter"),
}


class _NoValue:
    """``AWS::NoValue``: the enclosing list item or key disappears."""


NO_VALUE = _NoValue()
_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


class UnknownShapeError(Exception):
    """An intrinsic this linter has no placeholder for: add one to REF_SHAPES / GETATT_SHAPES."""


@dataclass(frozen=True)
class PolicyDocument:
    template: str
    resource: str
    resource_type: str
    where: str
    document: dict[str, Any]
    conditions: bool


class Resolver:
    """Turns a template value with intrinsics into plain JSON, with every condition set to ``conditions``."""

    def __init__(self, template: dict[str, Any], conditions: bool) -> None:
        self.resources: dict[str, Any] = template.get("Resources") or {}
        self.parameters: dict[str, Any] = template.get("Parameters") or {}
        self.conditions = conditions

    def _fill(self, shape: str, logical_id: str) -> str:
        return shape.format(region=REGION, account=ACCOUNT, id=logical_id)

    def _resource_type(self, logical_id: str) -> str:
        if logical_id in self.resources:
            return str(self.resources[logical_id]["Type"])
        # SAM makes a role "<function>Role" for each function that names none.
        function = logical_id.removesuffix("Role")
        if logical_id.endswith("Role") and function in self.resources:
            return "AWS::IAM::Role"
        raise UnknownShapeError(f"no resource or parameter named {logical_id}")

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in PSEUDO:
            return PSEUDO[name]
        if name in self.parameters:
            parameter = self.parameters[name]
            value = PARAMETER_EXAMPLES.get(name)
            if value is None:
                default = parameter.get("Default")
                value = str(default) if default not in (None, "") else f"example-{name.lower()}"
            if str(parameter.get("Type", "")).startswith(("List<", "CommaDelimitedList")):
                return value if isinstance(value, list) else str(value).split(",")
            return value
        kind = self._resource_type(name)
        if kind not in REF_SHAPES:
            raise UnknownShapeError(f"Ref {name}: no placeholder for a {kind}")
        return self._fill(REF_SHAPES[kind], name)

    def get_att(self, target: Any) -> str:
        logical_id, attribute = target.split(".", 1) if isinstance(target, str) else target
        kind = self._resource_type(logical_id)
        shape = GETATT_SHAPES.get((kind, attribute))
        if shape is None:
            raise UnknownShapeError(f"GetAtt {logical_id}.{attribute}: no placeholder for a {kind}")
        return self._fill(shape, logical_id)

    def sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])
        values = {k: self.resolve(v) for k, v in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in values:
                return str(values[name])
            if "." in name and name.split(".", 1)[0] not in self.parameters:
                return self.get_att(name)
            value = self.ref(name)
            return ",".join(value) if isinstance(value, list) else str(value)

        return _SUB_VARIABLE.sub(replace, text).replace("${!", "${")

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self.resolve(v) for v in value]
            return [v for v in items if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self.ref(argument)
            if key == "Fn::GetAtt":
                return self.get_att(argument)
            if key == "Fn::Sub":
                return self.sub(argument)
            if key == "Fn::If":
                return self.resolve(argument[1] if self.conditions else argument[2])
            if key == "Fn::Join":
                return str(argument[0]).join(str(v) for v in self.resolve(argument[1]))
            if key == "Fn::Split":
                return str(self.resolve(argument[1])).split(str(argument[0]))
            if key == "Fn::Select":
                return self.resolve(argument[1])[int(self.resolve(argument[0]))]
            if key == "Fn::ImportValue":
                return f"example-import-{self.resolve(argument)}"
            if key == "Fn::GetAZs":
                return [f"{REGION}a", f"{REGION}b"]
        out = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not NO_VALUE}


def _document(statements: Any) -> dict[str, Any]:
    listed = statements if isinstance(statements, list) else [statements]
    return {"Version": "2012-10-17", "Statement": listed}


_POLICY_DOCUMENT_TYPES = (
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::SQS::QueuePolicy",
    "AWS::SNS::TopicPolicy",
)


def _documents_of(logical_id: str, resource: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """(where, unresolved document or statements) of every policy a resource carries."""
    kind, props = resource["Type"], resource.get("Properties") or {}
    if kind == "AWS::Serverless::Function":
        policies = props.get("Policies") or []
        for position, policy in enumerate(policies if isinstance(policies, list) else [policies]):
            # Strings are managed policies; other single-key mappings are SAM policy templates.
            if isinstance(policy, dict) and "Statement" in policy:
                yield f"Policies[{position}]", policy
    elif kind == "AWS::IAM::Role":
        for position, policy in enumerate(props.get("Policies") or []):
            yield f"Policies[{position}] {policy.get('PolicyName', '')}".rstrip(), policy["PolicyDocument"]
    elif kind in (
        "AWS::IAM::Policy",
        "AWS::IAM::ManagedPolicy",
        "AWS::SQS::QueuePolicy",
        "AWS::SNS::TopicPolicy",
    ):
        yield "PolicyDocument", props["PolicyDocument"]
    elif kind == "AWS::Events::EventBusPolicy" and "Statement" in props:
        yield "Statement", {"Statement": props["Statement"]}
    elif kind == "AWS::Logs::Destination" and "DestinationPolicy" in props:
        yield "DestinationPolicy", props["DestinationPolicy"]


def extract_policies(path: Path) -> list[PolicyDocument]:
    """Every policy document of the template at ``path``, resolved both ways, duplicates dropped."""
    template = load_template(path)
    found: list[PolicyDocument] = []
    seen: set[tuple[str, str, str]] = set()
    for conditions in (True, False):
        resolver = Resolver(template, conditions)
        for logical_id, resource in (template.get("Resources") or {}).items():
            if "Condition" in resource and not conditions:
                continue  # a conditional resource exists only when its condition holds
            for where, raw in _documents_of(logical_id, resource):
                resolved = resolver.resolve(raw)
                if isinstance(resolved, str):
                    resolved = json.loads(resolved)
                document = _document(resolved.get("Statement", []))
                if not document["Statement"]:
                    continue
                key = (logical_id, where, json.dumps(document, sort_keys=True))
                if key in seen:
                    continue
                seen.add(key)
                found.append(
                    PolicyDocument(path.name, logical_id, resource["Type"], where, document, conditions)
                )
    return found


def lint(documents: list[PolicyDocument]) -> list[str]:
    """parliament's findings on each document, as printable lines (known false positives left out)."""
    parliament = importlib.import_module("parliament")
    problems: list[str] = []
    for doc in documents:
        policy = parliament.analyze_policy_string(json.dumps(doc.document))
        for finding in policy.findings:
            actions = _finding_actions(finding.detail)
            if actions and all(
                (doc.resource_type, finding.issue, action) in KNOWN_FALSE_POSITIVES for action in actions
            ):
                continue
            problems.append(
                f"{doc.template} {doc.resource} {doc.where} (conditions {str(doc.conditions).lower()}): "
                f"{finding.issue} {finding.detail}"
            )
    return problems


def _finding_actions(detail: Any) -> list[str]:
    if isinstance(detail, list):
        return [str(item.get("action")) for item in detail if isinstance(item, dict)]
    return []


def main(argv: list[str] | None = None) -> int:
    import warnings

    warnings.filterwarnings("ignore", category=UserWarning)  # pkg_resources' deprecation notice
    parser = argparse.ArgumentParser(description="Lint every IAM policy of SAM templates with parliament")
    parser.add_argument("templates", nargs="+", type=Path)
    args = parser.parse_args(argv)
    documents: list[PolicyDocument] = []
    for path in args.templates:
        documents.extend(extract_policies(path))
    problems = lint(documents)
    for line in problems:
        print(line)
    print(
        f"iam-lint: {len(documents)} policy documents in {len(args.templates)} templates, "
        f"{len(problems)} findings"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
