"""The policy document, modelled in pydantic. ``policies/policy.schema.json`` is generated from it.

A policy has ``defaults`` (every setting), ordered ``scopes`` that override some settings for the
sessions they match (the first matching scope wins), and ``exemptions``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ssm_warden.models.actions import Mode
from ssm_warden.models.findings import Severity

# Sane ranges for numbers (a 20-digit idle_minutes once overflowed every sweep): a limit of up to
# 30 days, a warning up to a day before it, a log-stream grace up to a day, up to 1,000 sessions.
MAX_MINUTES = 30 * 24 * 60
MAX_WARN_MINUTES = 24 * 60
MAX_GRACE_MINUTES = 24 * 60
MAX_CONCURRENT = 1000


class ResponseAction(StrEnum):
    """What to do about a finding of a given severity."""

    OBSERVE = "observe"  # record it in the ledger and the audit trail only
    ALERT = "alert"  # also post to Slack
    TERMINATE = "terminate"  # also terminate the session (or say "would terminate" in monitor mode)


class _Strict(BaseModel):
    # Unknown keys are errors: a typo in a policy must not silently loosen it.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Match(_Strict):
    """Which sessions a scope applies to. Every given criterion must hold; within a list, any entry.

    Values are shell-style globs (``*``, ``?``), matched case-sensitively.
    """

    tags: dict[str, str | list[str]] = Field(
        default_factory=dict, description="Target tags, e.g. {Environment: prod}; a list means any of."
    )
    target_ids: list[str] = Field(default_factory=list, description="Instance or managed-node ids.")
    accounts: list[str] = Field(default_factory=list, description="AWS account ids.")
    principals: list[str] = Field(
        default_factory=list, description="Principal ARNs (assumed-role session ARNs, user ARNs)."
    )
    roles: list[str] = Field(default_factory=list, description="IAM role names or role ARNs.")
    documents: list[str] = Field(default_factory=list, description="Session document names.")


class Concurrency(_Strict):
    per_principal: int | None = Field(
        default=None, ge=1, le=MAX_CONCURRENT, description="Open sessions per principal."
    )
    per_target: int | None = Field(
        default=None, ge=1, le=MAX_CONCURRENT, description="Open sessions per target."
    )


class RuleOverride(_Strict):
    """Per-rule settings inside a scope: a rule can be quieter, louder, or in monitor mode alone."""

    action: ResponseAction | None = None
    mode: Mode | None = None
    disabled: bool = False


class StartCheck(StrEnum):
    """Checks made when a session starts (or, for the logging gap, soon after)."""

    DOCUMENT_NOT_ALLOWED = "document_not_allowed"
    MISSING_REASON = "missing_reason"
    CONCURRENCY = "concurrency"
    DENIED_START = "denied_start"
    LOGGING_GAP = "logging_gap"
    # A command session whose command is a shell, interpreter, pager or editor: not streamed, so an
    # unwatched shell until its transcript arrives at the end.
    UNWATCHED_SHELL = "unwatched_shell"
    # -- just-in-time access and keyless paths (docs/keyless.md)
    REQUIRE_JIT = "require_jit"  # a standard session where the scope requires just-in-time access
    TUNNEL_PORT = "tunnel_port"  # an Instance Connect Endpoint tunnel to a port the scope denies
    RDP_RECORDING_OFF = "rdp_recording_off"  # Fleet Manager RDP recording switched off


# -- just-in-time node access and keyless paths (docs/keyless.md) -------------------------------------


class JitWindow(StrEnum):
    """What happens when a JIT session outlives its approved window, or its request is revoked."""

    ENFORCE = "enforce"  # warn before the window ends, terminate at its end or on revocation
    MONITOR = "monitor"  # the same alerts, saying "would terminate"
    OFF = "off"


class KeylessPathName(StrEnum):
    ECS_EXEC = "ecs_exec"
    INSTANCE_CONNECT = "instance_connect"
    ENDPOINT_TUNNEL = "endpoint_tunnel"
    FLEET_MANAGER_RDP = "fleet_manager_rdp"


class OwnNetworkSettings(_Strict):
    """The account's own S3 buckets and domains: data sent there is not sent to an "unknown
    destination" (private address ranges and ``*.internal`` names are always ours)."""

    buckets: list[str] = Field(
        default_factory=list,
        description="S3 bucket names or globs (acme-backups, acme-logs-*), compared without case.",
    )
    domains: list[str] = Field(
        default_factory=list,
        description="Domains whose names and subdomains are ours (acme.example covers api.acme.example).",
    )

    @field_validator("buckets", "domains")
    @classmethod
    def _plain_names(cls, values: list[str]) -> list[str]:
        for value in values:
            if not value.strip() or any(c.isspace() for c in value) or "/" in value:
                raise ValueError(f"{value!r} is not a bucket or domain name (no spaces, no '/')")
        return [v.lower().rstrip(".") for v in values]


class JitAndKeylessSettings(_Strict):
    """Settings for JIT access and the keyless paths; ``ScopeSettings`` inherits them."""

    require_jit: bool | None = Field(
        default=None, description="Sessions on these targets must use just-in-time node access."
    )
    jit_window: JitWindow | None = Field(
        default=None, description="Enforce the approved window and revocations of JIT access requests."
    )
    keyless: dict[KeylessPathName, ResponseAction] | None = Field(
        default=None,
        description="What using each keyless path on these targets leads to (observe, alert, terminate).",
    )
    denied_tunnel_ports: list[int] | None = Field(
        default=None, description="Ports an Instance Connect Endpoint tunnel must not reach, e.g. [22]."
    )


class ScopeSettings(JitAndKeylessSettings):
    """Settings a scope may override; a field left out is inherited from ``defaults``."""

    idle_minutes: int | None = Field(
        default=None, ge=1, le=MAX_MINUTES, description="Minutes without output before termination."
    )
    max_minutes: int | None = Field(
        default=None, ge=1, le=MAX_MINUTES, description="Longest a session may last."
    )
    warn_before_minutes: int | None = Field(default=None, ge=0, le=MAX_WARN_MINUTES)
    allowed_documents: list[str] | None = None
    require_reason: bool | None = None
    rule_packs: list[str] | None = None
    actions: dict[Severity, ResponseAction] | None = None
    mode: Mode | None = None
    max_concurrent_sessions: Concurrency | None = None
    log_stream_grace_minutes: int | None = Field(default=None, ge=1, le=MAX_GRACE_MINUTES)
    channel: str | None = None
    channels: dict[Severity, str] | None = None
    rules: dict[str, RuleOverride] | None = None
    start_checks: dict[StartCheck, ResponseAction] | None = Field(
        default=None, description="What each start-time check leads to when it fails."
    )
    own_network: OwnNetworkSettings | None = Field(
        default=None,
        description="The account's own buckets and domains; a scope's lists are added to the defaults'.",
    )


class DefaultSettings(ScopeSettings):
    """The settings every session gets unless a scope says otherwise. All fields have values."""

    idle_minutes: int | None = Field(default=60, ge=1, le=MAX_MINUTES)
    max_minutes: int | None = Field(default=720, ge=1, le=MAX_MINUTES)
    warn_before_minutes: int | None = Field(default=5, ge=0, le=MAX_WARN_MINUTES)
    allowed_documents: list[str] | None = Field(default_factory=lambda: ["*"])
    require_reason: bool | None = False
    rule_packs: list[str] | None = Field(default_factory=lambda: ["default"])
    actions: dict[Severity, ResponseAction] | None = Field(
        default_factory=lambda: {
            Severity.LOW: ResponseAction.OBSERVE,
            Severity.MEDIUM: ResponseAction.ALERT,
            Severity.HIGH: ResponseAction.ALERT,
            Severity.CRITICAL: ResponseAction.TERMINATE,
        }
    )
    mode: Mode | None = Mode.ENFORCE
    max_concurrent_sessions: Concurrency | None = Field(default_factory=Concurrency)
    log_stream_grace_minutes: int | None = Field(default=3, ge=1, le=MAX_GRACE_MINUTES)
    rules: dict[str, RuleOverride] | None = Field(default_factory=dict)
    start_checks: dict[StartCheck, ResponseAction] | None = Field(
        default_factory=lambda: {
            StartCheck.DOCUMENT_NOT_ALLOWED: ResponseAction.TERMINATE,
            StartCheck.MISSING_REASON: ResponseAction.ALERT,
            StartCheck.CONCURRENCY: ResponseAction.ALERT,
            StartCheck.DENIED_START: ResponseAction.OBSERVE,
            StartCheck.LOGGING_GAP: ResponseAction.ALERT,
            StartCheck.UNWATCHED_SHELL: ResponseAction.ALERT,
            StartCheck.REQUIRE_JIT: ResponseAction.ALERT,
            StartCheck.TUNNEL_PORT: ResponseAction.ALERT,
            StartCheck.RDP_RECORDING_OFF: ResponseAction.ALERT,
        }
    )
    require_jit: bool | None = False
    jit_window: JitWindow | None = JitWindow.ENFORCE
    keyless: dict[KeylessPathName, ResponseAction] | None = Field(
        default_factory=lambda: {
            KeylessPathName.ECS_EXEC: ResponseAction.OBSERVE,
            KeylessPathName.INSTANCE_CONNECT: ResponseAction.OBSERVE,
            KeylessPathName.ENDPOINT_TUNNEL: ResponseAction.OBSERVE,
            KeylessPathName.FLEET_MANAGER_RDP: ResponseAction.OBSERVE,
        }
    )
    denied_tunnel_ports: list[int] | None = Field(default_factory=list)


class Scope(ScopeSettings):
    name: str = Field(min_length=1)
    description: str | None = None
    match: Match


class Exemption(_Strict):
    """A named, expiring exception. Every given field must match; at least one must be given."""

    principal: str | None = Field(default=None, description="Principal ARN glob.")
    target: str | None = Field(default=None, description="Target id glob.")
    rule: str | None = Field(
        default=None, description="Rule id glob, or a limit name: idle_minutes, max_minutes."
    )
    expires: datetime
    reason: str = Field(min_length=3)

    @model_validator(mode="after")
    def _narrow(self) -> Exemption:
        if not (self.principal or self.target or self.rule):
            raise ValueError("an exemption must name at least one of principal, target, rule")
        if self.expires.tzinfo is None:
            raise ValueError("expires needs a time zone, e.g. 2026-12-31T00:00:00Z")
        return self


class Policy(_Strict):
    version: Literal[1] = 1
    description: str | None = None
    defaults: DefaultSettings = Field(default_factory=DefaultSettings)
    scopes: list[Scope] = Field(default_factory=list)
    exemptions: list[Exemption] = Field(default_factory=list)

    @field_validator("scopes")
    @classmethod
    def _unique_names(cls, scopes: list[Scope]) -> list[Scope]:
        seen: set[str] = set()
        for scope in scopes:
            if scope.name in seen:
                raise ValueError(f"scope name {scope.name!r} is used twice")
            seen.add(scope.name)
        return scopes


def policy_json_schema() -> dict[str, object]:
    schema = Policy.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "ssm-warden policy"
    return schema
