"""Action requests: the one currency between decisions and effects (Slack, TerminateSession).

Findings, limit breaches and start-time checks all produce ``ActionRequest``s; the executor carries
them out. ``action_id`` is deterministic (derived from what caused the action) so that the same cause
seen twice produces the same id, and the executor's idempotency makes the second one a no-op.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from ssm_warden.models.findings import Finding, Severity


class ActionKind(StrEnum):
    ALERT = "alert"  # tell people (Slack)
    WARN = "warn"  # tell the session's owner a limit is near
    TERMINATE = "terminate"  # ssm:TerminateSession (or "would terminate" in monitor mode)
    SUMMARY = "summary"  # the session ended: update its Slack thread with what it amounted to


class Mode(StrEnum):
    MONITOR = "monitor"
    ENFORCE = "enforce"


class Trigger(StrEnum):
    FINDING = "finding"  # a command or output rule matched
    IDLE_LIMIT = "idle_limit"
    MAX_DURATION = "max_duration"
    START_CHECK = "start_check"  # document not allowed, missing reason, concurrency, ...
    DENIED_START = "denied_start"
    LOGGING_GAP = "logging_gap"
    TAMPER = "tamper"
    POLICY_ERROR = "policy_error"
    OPERATOR = "operator"  # a person pressed a Slack button
    SESSION_END = "session_end"


class SessionRef(BaseModel):
    """Enough about the session for an action to be carried out and explained."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    session_id: str
    account: str
    region: str
    principal_arn: str | None = None
    target_id: str | None = None
    target_tags: dict[str, str] = Field(default_factory=dict)
    document_name: str | None = None
    reason: str | None = None
    started_at: datetime | None = None
    log_group: str | None = None
    cloudtrail_event_id: str | None = None
    # Just-in-time access (request id, requester, reason, approvers, window end) or a keyless path's
    # facts, shown in the session's Slack thread. Built by ssm-warden from CloudTrail, never from logs.
    access: dict[str, str] = Field(default_factory=dict)


class ClaimedSession(BaseModel):
    """Who a session-log event says it belongs to, when the ledger could not confirm it (an
    unverified stream, a forged event). The writer's word: alerts show it labelled as claimed."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    session_id: str
    target_id: str | None = None
    principal_arn: str | None = None
    log_group: str | None = None


class ActionRequest(BaseModel):
    """One thing ssm-warden decided to do, and why."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    action_id: str
    kind: ActionKind
    mode: Mode
    trigger: Trigger
    severity: Severity
    session: SessionRef | None = None  # None for account-level signals (tamper, policy errors)
    title: str
    why: str  # one sentence a person reads: what broke which rule or limit
    rule_or_limit: str  # rule id or limit name, e.g. "download_exec.curl_pipe_shell", "idle_minutes"
    findings: list[Finding] = Field(default_factory=list)
    policy_version: str  # hash of the policy document in force
    scope: str | None = None  # the policy scope that applied
    channel: str | None = None  # Slack channel chosen by the policy, if any
    created_at: datetime
    # Set on alerts about session logs the ledger does not vouch for: what the log claims. Such an
    # alert is never a termination and carries no Terminate button.
    claimed: ClaimedSession | None = None

    @property
    def would_terminate(self) -> bool:
        return self.kind is ActionKind.TERMINATE and self.mode is Mode.MONITOR


def action_id_for(*parts: str) -> str:
    """A stable id for the action that ``parts`` (cause, session, rule, ...) describe."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    return digest[:32]
