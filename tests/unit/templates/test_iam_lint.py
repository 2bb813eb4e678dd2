"""The IAM policy extraction behind `make lint-template` (parliament itself runs in .venv-lint).

What matters to a user: every policy of both templates reaches the linter, with intrinsics replaced
by values of the shape IAM expects, so that a wrong ARN or action is caught before a deploy."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from ssm_warden_local import iam_lint
from ssm_warden_local.iam_lint import UnknownShapeError, extract_policies
from tests.conftest import ROOT

TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  KmsKeyArn: {Type: String, Default: ""}
  PolicyParameterName: {Type: String, Default: ""}
Conditions:
  HasKmsKey: !Not [!Equals [!Ref KmsKeyArn, ""]]
Resources:
  Table:
    Type: AWS::DynamoDB::Table
  Queue:
    Type: AWS::SQS::Queue
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Policies:
        - AWSLambdaBasicExecutionRole
        - SQSPollerPolicy: {QueueName: !GetAtt Queue.QueueName}
        - Statement:
            - Effect: Allow
              Action: [dynamodb:Query]
              Resource: [!GetAtt Table.Arn, !Sub "${Table.Arn}/index/*"]
            - Effect: Allow
              Action: [ssm:GetParameter]
              Resource: !Join
                - "parameter/"
                - !Split ["parameter//", !Sub "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/${PolicyParameterName}"]
            - !If
              - HasKmsKey
              - Effect: Allow
                Action: [kms:Decrypt]
                Resource: !Ref KmsKeyArn
              - !Ref AWS::NoValue
  Other:
    Type: AWS::IAM::Role
    Condition: HasKmsKey
    Properties:
      Policies:
        - PolicyName: p
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: sts:AssumeRole
                Resource: !GetAtt FnRole.Arn
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "template.yaml"
    path.write_text(text)
    return path


def _statements(docs: list[iam_lint.PolicyDocument], resource: str, conditions: bool) -> list[dict[str, Any]]:
    found = [d for d in docs if d.resource == resource and d.conditions is conditions]
    return [s for d in found for s in d.document["Statement"]]


def test_inline_statements_get_concrete_arns_for_both_branches_of_every_condition(tmp_path: Path) -> None:
    # Given a SAM function with an inline policy using GetAtt, Sub, Join/Split and a conditional statement
    docs = extract_policies(_write(tmp_path, TEMPLATE))
    # Then with conditions true, the KMS statement is there with a key ARN and every ARN is concrete
    on = _statements(docs, "Fn", conditions=True)
    assert on[0]["Resource"] == [
        "arn:aws:dynamodb:us-east-1:123456789012:table/Table",
        "arn:aws:dynamodb:us-east-1:123456789012:table/Table/index/*",
    ]
    # (a parameter name with a leading slash still gives one "/" after "parameter")
    assert on[1]["Resource"] == "arn:aws:ssm:us-east-1:123456789012:parameter/ssm-warden/policy"
    assert on[2]["Resource"].startswith("arn:aws:kms:us-east-1:123456789012:key/")
    # And with conditions false the conditional statement is gone
    off = _statements(docs, "Fn", conditions=False)
    assert [s["Action"] for s in off] == [["dynamodb:Query"], ["ssm:GetParameter"]]
    # And managed policies and SAM policy templates are not treated as documents
    assert all(d.where == "Policies[2]" for d in docs if d.resource == "Fn")


def test_an_iam_role_policy_and_sams_implicit_function_role_are_resolved(tmp_path: Path) -> None:
    docs = extract_policies(_write(tmp_path, TEMPLATE))
    # The conditional role exists only when its condition holds
    assert {d.conditions for d in docs if d.resource == "Other"} == {True}
    statement = _statements(docs, "Other", conditions=True)[0]
    assert statement["Resource"] == "arn:aws:iam::123456789012:role/FnRole"
    assert json.loads(json.dumps(statement))  # plain JSON, ready for parliament


def test_an_intrinsic_with_no_known_shape_fails_loudly(tmp_path: Path) -> None:
    # Given a policy naming an attribute the linter has no placeholder for
    text = TEMPLATE.replace("!GetAtt Table.Arn,", "!GetAtt Table.Nonsense,")
    # Then extraction stops and says what to add, rather than linting a made-up value
    with pytest.raises(UnknownShapeError, match=r"Table\.Nonsense"):
        extract_policies(_write(tmp_path, text))


def test_both_shipped_templates_yield_every_function_and_role_policy() -> None:
    # Given the real templates
    docs = extract_policies(ROOT / "template.yaml") + extract_policies(ROOT / "template-member.yaml")
    resources = {d.resource for d in docs}
    # Then every function's inline policy and every IAM role's policy reaches the linter
    assert {
        "SessionEventsFunction",
        "ActionExecutorFunction",
        "SessionSweeperFunction",
        "SessionLogDestinationRole",
        "SessionLogDestination",
        "OrganizationEventBusPolicy",
        "MemberRole",
        "MemberReadRole",
        "EventForwardingRole",
    } <= resources
    # And the terminating member role can terminate sessions and nothing else; the other reads only
    member = [s for d in docs if d.resource == "MemberRole" for s in d.document["Statement"]]
    actions = {a for s in member for a in s["Action"]}
    assert actions == {"ssm:TerminateSession", "securityhub:BatchImportFindings"}
    reader = [s for d in docs if d.resource == "MemberReadRole" for s in d.document["Statement"]]
    assert {a for s in reader for a in s["Action"]} == {
        "ssm:DescribeSessions",
        "ec2:DescribeTags",
        "ssm:ListTagsForResource",
        # keyless paths (docs/keyless.md): reads, and findings into the account's own Security Hub
        "ecs:ListTagsForResource",
        "ec2:DescribeInstances",
        "ssm:GetOpsItem",
    }
    findings = next(s for s in member if s["Action"] == ["securityhub:BatchImportFindings"])
    assert findings["Resource"] == "arn:aws:securityhub:*:123456789012:product/123456789012/default"
    terminate = next(s for s in member if s["Action"] == ["ssm:TerminateSession"])
    assert terminate["Resource"] == "arn:aws:ssm:*:123456789012:session/*"


def test_findings_fail_the_lint_except_documented_false_positives(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given parliament reporting a resource mismatch on a Logs destination policy and on a function
    def analyze(text: str) -> Any:
        action = json.loads(text)["Statement"][0]["Action"]
        return SimpleNamespace(
            findings=[SimpleNamespace(issue="RESOURCE_MISMATCH", detail=[{"action": action}])]
        )

    monkeypatch.setattr(
        iam_lint.importlib, "import_module", lambda name: SimpleNamespace(analyze_policy_string=analyze)
    )
    doc = {"Version": "2012-10-17", "Statement": [{"Action": "logs:PutSubscriptionFilter"}]}
    destination = iam_lint.PolicyDocument("t", "D", "AWS::Logs::Destination", "DestinationPolicy", doc, True)
    function = iam_lint.PolicyDocument("t", "F", "AWS::Serverless::Function", "Policies[0]", doc, True)
    # Then only the function's finding is reported
    problems = iam_lint.lint([destination, function])
    assert len(problems) == 1
    assert problems[0].startswith("t F Policies[0]")
