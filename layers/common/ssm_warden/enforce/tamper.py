"""Tamper signals: CloudTrail calls that blind Session Manager's logging or ssm-warden itself. Pure.

The rules live in ``tamper_logging`` (session documents, the session-log group and its subscription,
CloudTrail trails) and ``tamper_pipeline`` (ssm-warden's functions, rules, schedule, policy parameter
and stack); this module says which calls are tamper-relevant and turns a signal into an alert.
"""

from __future__ import annotations

from datetime import datetime

from ssm_warden.audit import NO_SESSION
from ssm_warden.enforce.own_resources import WardenResources
from ssm_warden.enforce.tamper_base import TamperSignal, call_name
from ssm_warden.enforce.tamper_logging import PREFERENCES_DOCUMENT, session_logging_tamper
from ssm_warden.enforce.tamper_pipeline import pipeline_tamper
from ssm_warden.models.actions import ActionKind, ActionRequest, Mode, SessionRef, Trigger, action_id_for
from ssm_warden.models.cloudtrail import CloudTrailDetail
from ssm_warden.models.findings import Severity
from ssm_warden.policy.evaluate import EffectiveSettings
from ssm_warden.policy.loader import LoadedPolicy

__all__ = ["PREFERENCES_DOCUMENT", "TAMPER_CALLS", "describe_tamper", "is_tamper_call", "tamper_action"]

# Every call the template's tamper rules route here, by event source (Lambda's without the API
# version suffix its CloudTrail event names carry). template.yaml's TamperSignals pattern lists the same.
TAMPER_CALLS: dict[str, frozenset[str]] = {
    "ssm.amazonaws.com": frozenset(
        {
            "UpdateDocument",
            "UpdateDocumentDefaultVersion",
            "CreateDocument",
            "DeleteDocument",
            "PutParameter",
            "DeleteParameter",
            "DeleteParameters",
        }
    ),
    "logs.amazonaws.com": frozenset(
        {
            "DeleteLogGroup",
            "DeleteLogStream",
            "DeleteSubscriptionFilter",
            "PutSubscriptionFilter",
            "PutRetentionPolicy",
        }
    ),
    "cloudtrail.amazonaws.com": frozenset({"StopLogging", "DeleteTrail", "PutEventSelectors", "UpdateTrail"}),
    "lambda.amazonaws.com": frozenset(
        {
            "PutFunctionConcurrency",
            "DeleteFunctionConcurrency",
            "UpdateFunctionConfiguration",
            "UpdateFunctionCode",
            "DeleteFunction",
            "RemovePermission",
        }
    ),
    "events.amazonaws.com": frozenset(
        {"DisableRule", "DeleteRule", "RemoveTargets", "PutRule", "PutTargets"}
    ),
    "scheduler.amazonaws.com": frozenset({"DeleteSchedule", "UpdateSchedule"}),
    "cloudformation.amazonaws.com": frozenset({"DeleteStack", "UpdateStack", "ExecuteChangeSet"}),
}
# Kept for callers that test an event name alone (every name above).
TAMPER_EVENT_NAMES = tuple(sorted({name for names in TAMPER_CALLS.values() for name in names}))


def is_tamper_call(detail: CloudTrailDetail) -> bool:
    """Whether this CloudTrail call goes to the tamper rules rather than the ledger.

    Every call from a source only the tamper rules listen to counts (the template matches Lambda's
    calls by prefix, so a neighbour such as DeleteFunctionEventInvokeConfig arrives too, and is
    judged to be nothing, not reported as a malformed session event); from SSM, only the listed ones.
    """
    names = TAMPER_CALLS.get(detail.event_source)
    if names is None:
        return False
    return detail.event_source != "ssm.amazonaws.com" or call_name(detail) in names


def describe_tamper(
    detail: CloudTrailDetail, resources: WardenResources | str
) -> tuple[str, str, Severity] | None:
    """(title, why, severity) when this call tampers with session logging or ssm-warden; else None.

    ``resources`` may be just the session-log group's name (then nothing of ssm-warden's own is known
    by name).
    """
    if isinstance(resources, str):
        resources = WardenResources(session_log_group=resources)
    if detail.error_code:
        return None  # a refused call changed nothing
    signal: TamperSignal | None = session_logging_tamper(detail, resources) or pipeline_tamper(
        detail, resources
    )
    if signal is None:
        return None
    return signal.title, signal.why, signal.severity


def tamper_action(
    detail: CloudTrailDetail,
    *,
    resources: WardenResources | str,
    settings: EffectiveSettings,
    policy: LoadedPolicy,
    now: datetime,
) -> ActionRequest | None:
    found = describe_tamper(detail, resources)
    if found is None:
        return None
    title, why, severity = found
    account = detail.recipient_account_id or detail.user_identity.account_id or "unknown"
    return ActionRequest(
        # The same call routed by two rules (EventBridge calls are) gives one id: one alert.
        action_id=action_id_for("tamper", detail.event_id),
        kind=ActionKind.ALERT,
        mode=Mode.ENFORCE,  # an alert is never held back by monitor mode
        trigger=Trigger.TAMPER,
        severity=severity,
        session=SessionRef(
            session_id=NO_SESSION,
            account=account,
            region=detail.aws_region,
            principal_arn=detail.user_identity.arn,
            cloudtrail_event_id=detail.event_id,
        ),
        title=title,
        why=why,
        rule_or_limit=f"tamper.{call_name(detail)}",
        policy_version=policy.version,
        scope=settings.scope,
        channel=settings.channel_for(severity),
        created_at=now,
    )
