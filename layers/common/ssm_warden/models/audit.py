"""Audit records: every decision ssm-warden makes, append-only, queryable per session."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Decision(StrEnum):
    FINDING = "finding"
    WARNING = "warning"
    TERMINATION = "termination"
    WOULD_TERMINATE = "would_terminate"  # monitor mode
    SUPPRESSED = "suppressed"  # an exemption or extension applied
    ALERT = "alert"
    ACTION_FAILED = "action_failed"
    OPERATOR = "operator"  # a person acted through Slack (terminate now, extend, acknowledge)
    SESSION = "session"  # ledger facts worth keeping (discovered, closed by reconciliation)
    POLICY = "policy"  # a policy failed to load


class AuditRecord(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    session_id: str  # "-" for records about no session (tamper signals, policy errors)
    at: datetime
    record_id: str  # unique per record; the action id where an action caused it
    decision: Decision
    rule_or_limit: str | None = None
    policy_version: str | None = None
    action: str | None = None  # alert | warn | terminate | extend | acknowledge | ...
    outcome: str  # what happened: "terminated", "would terminate", "posted", "failed: ...", ...
    actor: str = "ssm-warden"  # who decided: ssm-warden, or the Slack user who clicked
    account: str | None = None
    region: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)
