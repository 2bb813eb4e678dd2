"""From findings to action requests, under the session's effective policy. Pure: ``now`` is passed in.

One command (or output line) yields at most one action: the hardest response any of its findings
calls for, carrying every finding so that the alert shows them all. Findings that the policy only
observes, or that an exemption covers, yield no action but an audit record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ssm_warden.models.actions import ActionKind, ActionRequest, Mode, SessionRef, Trigger, action_id_for
from ssm_warden.models.audit import AuditRecord, Decision
from ssm_warden.models.findings import Finding
from ssm_warden.policy.evaluate import EffectiveSettings, active_exemption
from ssm_warden.policy.loader import LoadedPolicy
from ssm_warden.policy.model import ResponseAction
from ssm_warden.slack.redact import redact

# An audit item stays far below DynamoDB's 400 KB however long a pasted command is.
_AUDIT_COMMAND_CHARS = 2000
_RANK = {ResponseAction.OBSERVE: 0, ResponseAction.ALERT: 1, ResponseAction.TERMINATE: 2}


@dataclass
class Decisions:
    """What ssm-warden decided about some input: actions to carry out and records to keep."""

    actions: list[ActionRequest] = field(default_factory=list)
    audit: list[AuditRecord] = field(default_factory=list)

    def extend(self, other: Decisions) -> None:
        self.actions.extend(other.actions)
        self.audit.extend(other.audit)


def effective_mode(settings: EffectiveSettings, rule_or_limit: str | None, force_monitor: bool) -> Mode:
    """Monitor when the deployment forces it, else the rule's or the scope's mode."""
    return Mode.MONITOR if force_monitor else settings.mode_for(rule_or_limit)


def decide_findings(
    *,
    session: SessionRef,
    findings: list[Finding],
    settings: EffectiveSettings,
    policy: LoadedPolicy,
    now: datetime,
    source_id: str,
    force_monitor: bool = False,
    exemption_at: datetime | None = None,
) -> Decisions:
    """Actions for the findings of one command or output line (``source_id`` names it uniquely).

    ``now`` times the records; ``exemption_at`` (default ``now``) is when exemptions are checked. The
    command watch passes the arrival time there: a log event's own time is the writer's word, and an
    event dated back into an expired exemption must not be exempt."""
    out = Decisions()
    kept: list[tuple[Finding, ResponseAction]] = []
    for finding in findings:
        record_id = action_id_for(
            "finding", session.account, session.region, session.session_id, source_id, finding.rule
        )
        exemption = active_exemption(
            policy.policy,
            principal_arn=session.principal_arn,
            target_id=session.target_id,
            rule_or_limit=finding.rule,
            now=exemption_at or now,
        )
        response = settings.action_for(finding.severity, finding.rule)
        if exemption is not None:
            out.audit.append(
                session_audit(
                    session,
                    now,
                    record_id,
                    Decision.SUPPRESSED,
                    finding.rule,
                    policy,
                    response.value,
                    f"exempt until {exemption.expires:%Y-%m-%d}: {exemption.reason}",
                    {"severity": finding.severity.value},
                )
            )
            continue
        out.audit.append(
            session_audit(
                session,
                now,
                record_id,
                Decision.FINDING,
                finding.rule,
                policy,
                response.value,
                "observed" if response is ResponseAction.OBSERVE else "acting",
                {
                    "severity": finding.severity.value,
                    "category": finding.category,
                    "reason": finding.reason,
                    # What was typed, masked as in Slack: `ssm-warden audit` shows it beside the rule.
                    "command": redact(finding.command)[:_AUDIT_COMMAND_CHARS],
                },
            )
        )
        kept.append((finding, response))
    acting = [(f, r) for f, r in kept if r is not ResponseAction.OBSERVE]
    if not acting:
        return out
    worst_finding, worst_response = max(acting, key=lambda fr: (_RANK[fr[1]], fr[0].severity.rank))
    kind = ActionKind.TERMINATE if worst_response is ResponseAction.TERMINATE else ActionKind.ALERT
    mode = effective_mode(settings, worst_finding.rule, force_monitor)
    findings_sorted = sorted((f for f, _ in acting), key=lambda f: -f.severity.rank)
    out.actions.append(
        ActionRequest(
            action_id=action_id_for(
                "finding", session.account, session.region, session.session_id, source_id
            ),
            kind=kind,
            mode=mode,
            trigger=Trigger.FINDING,
            severity=worst_finding.severity,
            session=session,
            title=worst_finding.title,
            why=f"{worst_finding.title}: {worst_finding.reason}",
            rule_or_limit=worst_finding.rule,
            findings=findings_sorted,
            policy_version=policy.version,
            scope=settings.scope,
            channel=settings.channel_for(worst_finding.severity),
            created_at=now,
        )
    )
    return out


def session_audit(
    session: SessionRef,
    now: datetime,
    record_id: str,
    decision: Decision,
    rule: str,
    policy: LoadedPolicy,
    action: str,
    outcome: str,
    details: dict[str, str] | None = None,
) -> AuditRecord:
    """An audit record of a decision about one session under ``policy``."""
    return AuditRecord(
        session_id=session.session_id,
        at=now,
        record_id=record_id,
        decision=decision,
        rule_or_limit=rule,
        policy_version=policy.version,
        action=action,
        outcome=outcome,
        account=session.account,
        region=session.region,
        details=details or {},
    )
