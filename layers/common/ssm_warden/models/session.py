"""The ledger's view of a session, and the changes CloudTrail events make to it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class SessionState(StrEnum):
    ACTIVE = "active"
    TERMINATED = "terminated"  # someone (a person, a program, ssm-warden) called TerminateSession
    ENDED = "ended"  # ended without TerminateSession (exit, AWS's own timeouts); found by reconciliation


class Principal(BaseModel):
    """Who made a call, as CloudTrail's userIdentity tells it."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    arn: str | None = None
    type: str | None = None
    account_id: str | None = None
    principal_id: str | None = None
    role_arn: str | None = None  # the IAM role behind an assumed-role session
    role_session_name: str | None = None
    user_name: str | None = None
    # Just-in-time node access: the request this principal's session was joined to, and the role
    # the session was really started with (SSM-JustInTimeAccessTokenRole). See ledger/access_join.py.
    access_request_id: str | None = None
    via_role_arn: str | None = None


class _Change(BaseModel):
    """What every CloudTrail session call tells: which event, where, when, by whom."""

    model_config = ConfigDict(frozen=True, defer_build=True)
    event_id: str
    account: str
    region: str
    at: datetime
    principal: Principal


class SessionStarted(_Change):
    kind: Literal["start"] = "start"
    session_id: str
    source_ip: str | None = None
    user_agent: str | None = None
    target_id: str | None = None
    document_name: str
    parameters: dict[str, Any] = Field(default_factory=dict)
    reason: str | None = None


class SessionResumed(_Change):
    kind: Literal["resume"] = "resume"
    session_id: str


class SessionTerminated(_Change):
    kind: Literal["terminate"] = "terminate"
    session_id: str
    by_warden: bool  # ssm-warden's own role made the call


class DeniedAttempt(_Change):
    """A session call that failed (AccessDenied, ...): no session was opened."""

    kind: Literal["denied"] = "denied"
    event_name: str
    error_code: str
    error_message: str | None = None
    target_id: str | None = None
    document_name: str | None = None
    session_id: str | None = None
    source_ip: str | None = None


LedgerChange = SessionStarted | SessionResumed | SessionTerminated | DeniedAttempt


class SessionRecord(BaseModel):
    """One item of the sessions table, as the rest of ssm-warden reads it."""

    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    session_id: str
    account: str
    region: str
    state: SessionState | None = None  # None: only a late event has been seen so far
    principal: Principal | None = None
    source_ip: str | None = None
    user_agent: str | None = None
    target_id: str | None = None
    target_tags: dict[str, str] = Field(default_factory=dict)
    tags_lookup_failed: bool = False
    document_name: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    reason: str | None = None
    started_at: datetime | None = None
    resumes: int = 0
    last_resumed_at: datetime | None = None
    last_output_at: datetime | None = None
    ended_at: datetime | None = None
    ended_by: str | None = None
    end_reason: str | None = None
    discovered: bool = False  # found by reconciliation; its StartSession event never arrived
    warned: list[str] = Field(default_factory=list)  # limits already warned about
    extensions: list[dict[str, Any]] = Field(default_factory=list)
    termination: dict[str, Any] | None = None  # why ssm-warden terminated it
    commands_seen: int = 0  # commands the command monitor rebuilt from the session's output
    findings_seen: int = 0
    watch_batches: int = 0  # the command-watch batch whose counts the item shows (watch item ``n``)
    # Standard | JustInTime (DescribeSessions AccessType; JustInTime also when the token role started it)
    access_type: str | None = None
    # A keyless path's own facts (ECS Exec: cluster, task, container, command, interactive).
    keyless: dict[str, Any] | None = None
    access_join: dict[str, Any] | None = None  # how a JIT session was joined to its request
    version: int = 0
