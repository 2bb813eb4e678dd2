"""Tamper signals: CloudTrail calls that blind ssm-warden or Session Manager's logging. Pure."""

from __future__ import annotations

import json
from datetime import datetime

from ssm_warden.audit import NO_SESSION
from ssm_warden.models.actions import ActionKind, ActionRequest, Mode, SessionRef, Trigger, action_id_for
from ssm_warden.models.cloudtrail import CloudTrailDetail
from ssm_warden.models.findings import Severity
from ssm_warden.policy.evaluate import EffectiveSettings
from ssm_warden.policy.loader import LoadedPolicy

PREFERENCES_DOCUMENT = "SSM-SessionManagerRunShell"
TAMPER_EVENT_NAMES = (
    "UpdateDocument",
    "UpdateDocumentDefaultVersion",
    "DeleteLogGroup",
    "DeleteSubscriptionFilter",
    "PutRetentionPolicy",
    "StopLogging",
    "DeleteTrail",
)


def _streaming_switched_off(content: object) -> bool:
    try:
        doc = json.loads(content) if isinstance(content, str) else content
    except ValueError:
        return False
    inputs = doc.get("inputs", {}) if isinstance(doc, dict) else {}
    return inputs.get("cloudWatchStreamingEnabled") is False or inputs.get("cloudWatchLogGroupName") == ""


def describe_tamper(detail: CloudTrailDetail, session_log_group: str) -> tuple[str, str, Severity] | None:
    """(title, why, severity) when this call tampers with session logging; None otherwise."""
    params = detail.request_parameters or {}
    who = detail.user_identity.arn or "unknown principal"
    name = detail.event_name
    if detail.error_code:
        return None  # a refused call changed nothing
    if detail.event_source == "ssm.amazonaws.com" and name in (
        "UpdateDocument",
        "UpdateDocumentDefaultVersion",
    ):
        if params.get("name") != PREFERENCES_DOCUMENT:
            return None
        if _streaming_switched_off(params.get("content")):
            return (
                "Session log streaming switched off",
                f"{who} changed {PREFERENCES_DOCUMENT}: "
                "CloudWatch streaming is off, so commands are no longer watched",
                Severity.CRITICAL,
            )
        return (
            "Session Manager preferences changed",
            f"{who} called {name} on {PREFERENCES_DOCUMENT}",
            Severity.HIGH,
        )
    if detail.event_source == "logs.amazonaws.com" and name in (
        "DeleteLogGroup",
        "DeleteSubscriptionFilter",
        "PutRetentionPolicy",
    ):
        if params.get("logGroupName") != session_log_group:
            return None
        severity = Severity.MEDIUM if name == "PutRetentionPolicy" else Severity.CRITICAL
        return (f"Session log group: {name}", f"{who} called {name} on {session_log_group}", severity)
    if detail.event_source == "cloudtrail.amazonaws.com" and name in ("StopLogging", "DeleteTrail"):
        trail = params.get("name", "a trail")
        return (
            f"CloudTrail {name}",
            f"{who} called {name} on {trail}: session events may stop arriving",
            Severity.CRITICAL,
        )
    return None


def tamper_action(
    detail: CloudTrailDetail,
    *,
    session_log_group: str,
    settings: EffectiveSettings,
    policy: LoadedPolicy,
    now: datetime,
) -> ActionRequest | None:
    found = describe_tamper(detail, session_log_group)
    if found is None:
        return None
    title, why, severity = found
    account = detail.recipient_account_id or detail.user_identity.account_id or "unknown"
    return ActionRequest(
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
        rule_or_limit=f"tamper.{detail.event_name}",
        policy_version=policy.version,
        scope=settings.scope,
        channel=settings.channel_for(severity),
        created_at=now,
    )
