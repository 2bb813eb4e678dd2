"""Least privilege in organisation mode: of the governance functions, the action executor alone can
terminate sessions in member accounts; session events and the sweeper read through another role."""

from __future__ import annotations

from typing import Any

from ssm_warden_local.iam_lint import Resolver, load_template
from tests.conftest import ROOT

TERMINATE = "ssm:TerminateSession"


def _resolved(name: str) -> tuple[dict[str, Any], Resolver]:
    template = load_template(ROOT / name)
    return template, Resolver(template, conditions=True)


def _statements(resolver: Resolver, resource: dict[str, Any]) -> list[dict[str, Any]]:
    props = resource.get("Properties") or {}
    out: list[dict[str, Any]] = []
    for policy in props.get("Policies") or []:
        document = policy.get("PolicyDocument", policy) if isinstance(policy, dict) else None
        if isinstance(document, dict) and "Statement" in document:
            out.extend(s for s in resolver.resolve(document["Statement"]) if isinstance(s, dict))
    return out


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement.get("Action", [])
    return action if isinstance(action, list) else [action]


def test_only_the_executor_is_trusted_by_the_member_role_that_terminates() -> None:
    member, resolver = _resolved("template-member.yaml")
    roles = {
        k: v
        for k, v in member["Resources"].items()
        if v["Type"] == "AWS::IAM::Role" and k != "EventForwardingRole"
    }
    # Given the member template's roles: which of them may terminate, and whom each trusts
    terminating = {
        k for k, v in roles.items() if any(TERMINATE in _actions(s) for s in _statements(resolver, v))
    }
    assert terminating == {"MemberRole"}
    trust = member["Resources"]["MemberRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Principal"]["AWS"] for s in trust] == [{"Ref": "GovernanceTerminateRoleArns"}]
    read_trust = member["Resources"]["MemberReadRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Principal"]["AWS"] for s in read_trust] == [{"Ref": "GovernanceReadRoleArns"}]
    # And the governance template passes only the executor's role for the terminating role
    governance, _ = _resolved("template.yaml")
    outputs = governance["Outputs"]
    assert outputs["MemberTerminateTrustedRoleArns"]["Value"] == {
        "Fn::GetAtt": "ActionExecutorFunctionRole.Arn"
    }
    read = str(outputs["MemberReadTrustedRoleArns"]["Value"])
    assert "SessionEventsFunctionRole" in read and "SessionSweeperFunctionRole" in read
    assert "ActionExecutor" not in read


def test_each_function_may_assume_only_its_member_role() -> None:
    governance, resolver = _resolved("template.yaml")
    assumable: dict[str, set[str]] = {}
    for name, resource in governance["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for statement in _statements(resolver, resource):
            if "sts:AssumeRole" in _actions(statement):
                resources = (
                    statement["Resource"]
                    if isinstance(statement["Resource"], list)
                    else [statement["Resource"]]
                )
                assumable.setdefault(name, set()).update(r.rsplit("/", 1)[-1] for r in resources)
    assert assumable == {
        "ActionExecutorFunction": {"ssm-warden-member"},
        "SessionEventsFunction": {"ssm-warden-member-read"},
        "SessionSweeperFunction": {"ssm-warden-member-read"},
    }
