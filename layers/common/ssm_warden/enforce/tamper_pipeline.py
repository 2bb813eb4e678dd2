"""Tamper rules for ssm-warden itself: its functions, EventBridge rules, sweeper schedule, policy
parameter and stack. Pure functions of one CloudTrail call and ssm-warden's resource names.

A call CloudFormation made on a resource ssm-warden's stack owns is its own deployment and raises
nothing; the deployment itself (UpdateStack / ExecuteChangeSet on ssm-warden's stack) is reported,
so the exemption cannot hide who changed ssm-warden. The policy parameter is not the stack's: a
change to it is always reported.
"""

from __future__ import annotations

from typing import Any

from ssm_warden.enforce.own_resources import WardenResources, function_name
from ssm_warden.enforce.tamper_base import TamperSignal, call_name, made_by_cloudformation, param, who
from ssm_warden.models.cloudtrail import CloudTrailDetail
from ssm_warden.models.findings import Severity

SWEEPER_RATE = "rate(1 minute)"


def _lambda(detail: CloudTrailDetail, resources: WardenResources) -> TamperSignal | None:
    params = detail.request_parameters or {}
    target = param(params, "functionName")
    if not resources.is_function(target):
        return None
    if made_by_cloudformation(detail):
        return None
    name = function_name(target)
    call = call_name(detail)
    actor = who(detail)
    if call == "PutFunctionConcurrency":
        reserved = param(params, "reservedConcurrentExecutions")
        if str(reserved) == "0":
            return TamperSignal(
                "ssm-warden function throttled to zero",
                f"{actor} set the reserved concurrency of {name} to 0: it can no longer run",
                Severity.CRITICAL,
            )
        return TamperSignal(
            "ssm-warden function concurrency changed",
            f"{actor} set the reserved concurrency of {name} to {reserved}",
            Severity.MEDIUM,
        )
    if call == "DeleteFunctionConcurrency":
        return TamperSignal(
            "ssm-warden function concurrency removed",
            f"{actor} removed the reserved concurrency of {name} (the bound on its pressure)",
            Severity.MEDIUM,
        )
    if call in ("UpdateFunctionConfiguration", "UpdateFunctionCode"):
        what = "configuration (environment, role, layers, handler)" if "Configuration" in call else "code"
        return TamperSignal(
            "ssm-warden function changed outside its stack",
            f"{actor} replaced the {what} of {name} outside a deployment: it can switch ssm-warden off "
            "(monitor mode, another policy, another log group) or replace what it does",
            Severity.CRITICAL,
        )
    if call == "DeleteFunction":
        return TamperSignal(
            "ssm-warden function deleted",
            f"{actor} deleted {name}",
            Severity.CRITICAL,
        )
    if call == "RemovePermission":
        monitor = resources.command_monitor == name
        return TamperSignal(
            "ssm-warden function permission removed",
            f"{actor} removed a resource policy statement ({param(params, 'statementId') or '?'}) of {name}"
            + (": CloudWatch Logs may no longer deliver session logs to it" if monitor else ""),
            Severity.CRITICAL if monitor else Severity.HIGH,
        )
    return None


def _rule(detail: CloudTrailDetail, resources: WardenResources) -> TamperSignal | None:
    params = detail.request_parameters or {}
    call = call_name(detail)
    name = param(params, "rule") if call in ("RemoveTargets", "PutTargets") else param(params, "name")
    if not name or str(name) not in resources.rules:
        return None
    if made_by_cloudformation(detail):
        return None
    actor = who(detail)
    if call in ("DisableRule", "DeleteRule", "RemoveTargets"):
        effect = {
            "DisableRule": "disabled",
            "DeleteRule": "deleted",
            "RemoveTargets": "had its targets removed",
        }[call]
        return TamperSignal(
            f"ssm-warden rule {effect}",
            f"{actor} called {call} on {name}: the CloudTrail calls it routes (session events or tamper "
            "signals) no longer reach ssm-warden",
            Severity.CRITICAL,
        )
    if call == "PutRule":
        state = param(params, "state")
        return TamperSignal(
            "ssm-warden rule replaced",
            f"{actor} called PutRule on {name} outside a deployment"
            + (f" (state {state})" if state else "")
            + ": its event pattern or state is no longer the one ssm-warden deployed",
            Severity.CRITICAL,
        )
    if call == "PutTargets":
        return TamperSignal(
            "ssm-warden rule targets changed",
            f"{actor} called PutTargets on {name} outside a deployment",
            Severity.HIGH,
        )
    return None


def _schedule_target_is_ours(params: dict[str, Any], resources: WardenResources) -> bool:
    target = param(params, "target")
    arn = param(target, "arn") if isinstance(target, dict) else None
    return resources.is_function(arn)


def _schedule(detail: CloudTrailDetail, resources: WardenResources) -> TamperSignal | None:
    params = detail.request_parameters or {}
    name = param(params, "name")
    if not name or str(name) not in resources.schedules:
        return None
    if made_by_cloudformation(detail):
        return None
    call = call_name(detail)
    actor = who(detail)
    if call == "DeleteSchedule":
        return TamperSignal(
            "ssm-warden sweeper schedule deleted",
            f"{actor} deleted schedule {name}: idle and duration limits and reconciliation stop",
            Severity.CRITICAL,
        )
    if call == "UpdateSchedule":
        state = str(param(params, "state") or "ENABLED")
        expression = str(param(params, "scheduleExpression") or "")
        if (
            state == "DISABLED"
            or not _schedule_target_is_ours(params, resources)
            or expression != SWEEPER_RATE
        ):
            return TamperSignal(
                "ssm-warden sweeper schedule changed",
                f"{actor} updated schedule {name} (state {state}, {expression or 'no expression'}): "
                "the sweeper may no longer run every minute, so idle and duration limits stop",
                Severity.CRITICAL,
            )
        return TamperSignal(
            "ssm-warden sweeper schedule re-put",
            f"{actor} updated schedule {name} outside a deployment (still every minute, same target)",
            Severity.MEDIUM,
        )
    return None


def _parameter(detail: CloudTrailDetail, resources: WardenResources) -> TamperSignal | None:
    params = detail.request_parameters or {}
    call = call_name(detail)
    names = param(params, "names") if call == "DeleteParameters" else [param(params, "name")]
    if not isinstance(names, list) or not any(resources.is_policy_parameter(n) for n in names):
        return None
    via = " through CloudFormation" if made_by_cloudformation(detail) else ""
    policy = resources.policy_parameter
    if call in ("DeleteParameter", "DeleteParameters"):
        return TamperSignal(
            "ssm-warden policy parameter deleted",
            f"{who(detail)} deleted the policy parameter {policy}{via}: ssm-warden can no longer read "
            "the policy it was deployed with",
            Severity.CRITICAL,
        )
    if call == "PutParameter":
        return TamperSignal(
            "ssm-warden policy replaced",
            f"{who(detail)} wrote a new version of the policy parameter {policy}{via}; it applies within "
            "a minute (review it: `ssm-warden policy explain`)",
            Severity.HIGH,
        )
    return None


def _stack(detail: CloudTrailDetail, stack: str | None) -> TamperSignal | None:
    params = detail.request_parameters or {}
    named = str(param(params, "stackName") or "")
    if not stack or not (named == stack or f":stack/{stack}/" in named):
        return None
    call = call_name(detail)
    if call == "DeleteStack":
        return TamperSignal(
            "ssm-warden stack deleted",
            f"{who(detail)} called DeleteStack on {stack}: ssm-warden is being removed",
            Severity.CRITICAL,
        )
    if call in ("UpdateStack", "ExecuteChangeSet"):
        return TamperSignal(
            "ssm-warden redeployed",
            f"{who(detail)} called {call} on {stack}: changes CloudFormation makes to ssm-warden's own "
            "resources during this deployment are not reported one by one",
            Severity.MEDIUM,
        )
    return None


def pipeline_tamper(detail: CloudTrailDetail, resources: WardenResources) -> TamperSignal | None:
    """The signal of a call on ssm-warden's own functions, rules, schedule, policy or stack."""
    source = detail.event_source
    if source == "lambda.amazonaws.com":
        return _lambda(detail, resources)
    if source == "events.amazonaws.com":
        return _rule(detail, resources)
    if source == "scheduler.amazonaws.com":
        return _schedule(detail, resources)
    if source == "ssm.amazonaws.com":
        return _parameter(detail, resources)
    if source == "cloudformation.amazonaws.com":
        return _stack(detail, resources.stack)
    return None
