"""ActionRequest → ASFF finding. Pure.

The finding ``Id`` derives from the session and the rule or limit, not from the action: a warning,
then a termination for the same limit update one finding (BatchImportFindings replaces a finding
with the same Id and ProductArn) instead of adding a second one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ssm_warden.audit import NO_SESSION
from ssm_warden.clients import partition_of
from ssm_warden.clock import iso
from ssm_warden.models.actions import ActionKind, ActionRequest, action_id_for
from ssm_warden.models.findings import Severity

GENERATOR = "ssm-warden"
_LABEL = {
    Severity.LOW: "LOW",
    Severity.MEDIUM: "MEDIUM",
    Severity.HIGH: "HIGH",
    Severity.CRITICAL: "CRITICAL",
}
_TITLE_MAX = 256
_DESCRIPTION_MAX = 1024


def product_arn(account: str, region: str) -> str:
    return f"arn:{partition_of(region)}:securityhub:{region}:{account}:product/{account}/default"


def finding_id(action: ActionRequest) -> str:
    s = action.session
    if s is None or s.session_id == NO_SESSION:
        return f"ssm-warden/{action.action_id}"
    return f"ssm-warden/{s.account}/{s.region}/{s.session_id}/{action_id_for(action.rule_or_limit)[:16]}"


def _resource(action: ActionRequest, account: str, region: str) -> dict[str, Any]:
    s = action.session
    partition = partition_of(region)
    if s is not None and s.session_id != NO_SESSION:
        details = {k: v for k, v in {"Target": s.target_id, "Principal": s.principal_arn}.items() if v}
        details.update({f"access.{k}": v for k, v in s.access.items()})
        return {
            "Type": "Other",
            "Id": f"arn:{partition}:ssm:{region}:{account}:session/{s.session_id}",
            "Partition": partition,
            "Region": region,
            "Details": {"Other": {k: v[:1024] for k, v in details.items()}},
        }
    if s is not None and s.target_id and s.target_id.startswith("i-"):
        return {
            "Type": "AwsEc2Instance",
            "Id": f"arn:{partition}:ec2:{region}:{account}:instance/{s.target_id}",
            "Partition": partition,
            "Region": region,
        }
    return {"Type": "AwsAccount", "Id": f"AWS::::Account:{account}", "Partition": partition, "Region": region}


def to_asff(action: ActionRequest, outcome: str, *, now: datetime) -> dict[str, Any] | None:
    """The ASFF finding for an action carried out with ``outcome``; None for summaries."""
    if action.kind is ActionKind.SUMMARY:
        return None
    s = action.session
    account = s.account if s else "000000000000"
    region = s.region if s else "us-east-1"
    terminated = outcome == "terminated"
    created = s.started_at if s and s.started_at else action.created_at
    finding: dict[str, Any] = {
        "SchemaVersion": "2018-10-08",
        "Id": finding_id(action),
        "ProductArn": product_arn(account, region),
        "GeneratorId": f"{GENERATOR}/{action.rule_or_limit}",
        "AwsAccountId": account,
        "Types": ["TTPs/Execution" if action.findings else "Software and Configuration Checks/ssm-warden"],
        "CreatedAt": iso(min(created, action.created_at)),
        "UpdatedAt": iso(now),
        "Severity": {"Label": _LABEL[action.severity]},
        "Title": action.title[:_TITLE_MAX],
        "Description": action.why[:_DESCRIPTION_MAX],
        "ProductFields": {
            "ssm-warden/ActionId": action.action_id,
            "ssm-warden/Kind": action.kind.value,
            "ssm-warden/Outcome": outcome,
            "ssm-warden/Mode": action.mode.value,
            "ssm-warden/PolicyVersion": action.policy_version[:64],
            "ssm-warden/Scope": action.scope or "-",
        },
        "Resources": [_resource(action, account, region)],
        "Workflow": {"Status": "RESOLVED" if terminated else "NEW"},
        "RecordState": "ACTIVE",
    }
    if s and s.session_id != NO_SESSION:
        finding["ProductFields"]["ssm-warden/SessionId"] = s.session_id
    return finding
