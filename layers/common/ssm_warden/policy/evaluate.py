"""Which settings apply to a session, and which exemption covers a rule or limit. Pure functions.

Precedence: scopes are tried in the order they are written and the **first** scope whose ``match``
holds supplies its settings; every setting it leaves out comes from ``defaults``. First match was
chosen over "most specific" because a reader can predict it from the file alone.
"""

from __future__ import annotations

from datetime import datetime
from fnmatch import fnmatchcase

from pydantic import BaseModel, ConfigDict, Field

from ssm_warden.models.actions import Mode
from ssm_warden.models.findings import Severity
from ssm_warden.policy.model import (
    Concurrency,
    DefaultSettings,
    Exemption,
    JitWindow,
    KeylessPathName,
    Match,
    OwnNetworkSettings,
    Policy,
    ResponseAction,
    RuleOverride,
    ScopeSettings,
    StartCheck,
)

DEFAULTS_SCOPE = "defaults"


class SessionFacts(BaseModel):
    """What is known about a session that a policy can match on."""

    model_config = ConfigDict(frozen=True)

    target_tags: dict[str, str] = Field(default_factory=dict)
    target_id: str | None = None
    account: str | None = None
    principal_arn: str | None = None
    role_arn: str | None = None
    document_name: str | None = None


class EffectiveSettings(BaseModel):
    """The settings in force for one session, after scope precedence."""

    model_config = ConfigDict(frozen=True)

    scope: str
    idle_minutes: int | None
    max_minutes: int | None
    warn_before_minutes: int
    allowed_documents: list[str]
    require_reason: bool
    rule_packs: list[str]
    actions: dict[Severity, ResponseAction]
    mode: Mode
    max_concurrent_sessions: Concurrency
    log_stream_grace_minutes: int
    channel: str | None
    channels: dict[Severity, str]
    rules: dict[str, RuleOverride]
    start_checks: dict[StartCheck, ResponseAction]
    # just-in-time access and keyless paths (policy/model.py JitAndKeylessSettings)
    require_jit: bool = False
    jit_window: JitWindow = JitWindow.ENFORCE
    keyless: dict[KeylessPathName, ResponseAction] = Field(default_factory=dict)
    denied_tunnel_ports: list[int] = Field(default_factory=list)
    own_network: OwnNetworkSettings = Field(default_factory=OwnNetworkSettings)

    def start_check_action(self, check: StartCheck) -> ResponseAction:
        return self.start_checks.get(check, ResponseAction.OBSERVE)

    def action_for(self, severity: Severity, rule: str | None = None) -> ResponseAction:
        override = self.rules.get(rule) if rule else None
        if override and override.disabled:
            return ResponseAction.OBSERVE
        if override and override.action:
            return override.action
        return self.actions.get(severity, ResponseAction.OBSERVE)

    def mode_for(self, rule: str | None = None) -> Mode:
        override = self.rules.get(rule) if rule else None
        if override and override.mode:
            return override.mode
        return self.mode

    def channel_for(self, severity: Severity) -> str | None:
        return self.channels.get(severity, self.channel)

    def allows_document(self, document: str) -> bool:
        return any(fnmatchcase(document, pattern) for pattern in self.allowed_documents)


def _any_glob(value: str | None, patterns: list[str]) -> bool:
    return value is not None and any(fnmatchcase(value, p) for p in patterns)


def _role_name(role_arn: str | None) -> str | None:
    return role_arn.rsplit("/", 1)[-1] if role_arn else None


def matches(match: Match, facts: SessionFacts) -> bool:
    """True when every criterion ``match`` gives holds for the session."""
    for key, wanted in match.tags.items():
        patterns = wanted if isinstance(wanted, list) else [wanted]
        if not _any_glob(facts.target_tags.get(key), patterns):
            return False
    if match.target_ids and not _any_glob(facts.target_id, match.target_ids):
        return False
    if match.accounts and not _any_glob(facts.account, match.accounts):
        return False
    if match.principals and not _any_glob(facts.principal_arn, match.principals):
        return False
    if match.roles and not (
        _any_glob(facts.role_arn, match.roles) or _any_glob(_role_name(facts.role_arn), match.roles)
    ):
        return False
    return not (match.documents and not _any_glob(facts.document_name, match.documents))


# The JIT and keyless checks are newer than most policies: a policy whose ``start_checks`` predates
# them still gets their built-in responses (it can set them like any other check).
_JIT_AND_KEYLESS_CHECKS = {
    check: response
    for check, response in (DefaultSettings().start_checks or {}).items()
    if check in (StartCheck.REQUIRE_JIT, StartCheck.TUNNEL_PORT, StartCheck.RDP_RECORDING_OFF)
}


def _merge(name: str, base: ScopeSettings, override: ScopeSettings | None) -> EffectiveSettings:
    values = {field: getattr(base, field) for field in ScopeSettings.model_fields}
    if override is not None:
        for field in override.model_fields_set & set(ScopeSettings.model_fields):
            values[field] = getattr(override, field)
    values["channels"] = values["channels"] or {}
    values["rules"] = {**(base.rules or {}), **(values["rules"] or {})}
    values["actions"] = {**(base.actions or {}), **(values["actions"] or {})}
    values["start_checks"] = {
        **_JIT_AND_KEYLESS_CHECKS,
        **(base.start_checks or {}),
        **(values["start_checks"] or {}),
    }
    values["keyless"] = {**(base.keyless or {}), **(values["keyless"] or {})}
    values["denied_tunnel_ports"] = values["denied_tunnel_ports"] or []
    values["require_jit"] = bool(values["require_jit"])
    values["jit_window"] = values["jit_window"] or JitWindow.ENFORCE
    values["own_network"] = _own_network(base.own_network, override.own_network if override else None)
    return EffectiveSettings(scope=name, **values)


def _own_network(base: OwnNetworkSettings | None, scope: OwnNetworkSettings | None) -> OwnNetworkSettings:
    """The defaults' buckets and domains with the scope's added (what is ours does not shrink)."""
    lists = [n for n in (base, scope) if n is not None]
    return OwnNetworkSettings(
        buckets=list(dict.fromkeys(b for n in lists for b in n.buckets)),
        domains=list(dict.fromkeys(d for n in lists for d in n.domains)),
    )


def effective_settings(policy: Policy, facts: SessionFacts) -> EffectiveSettings:
    """The settings of the first scope that matches ``facts``, completed from the defaults."""
    for scope in policy.scopes:
        if matches(scope.match, facts):
            return _merge(scope.name, policy.defaults, scope)
    return _merge(DEFAULTS_SCOPE, policy.defaults, None)


def all_settings(policy: Policy) -> list[EffectiveSettings]:
    return [_merge(DEFAULTS_SCOPE, policy.defaults, None)] + [
        _merge(s.name, policy.defaults, s) for s in policy.scopes
    ]


_ACTION_RANK = {ResponseAction.OBSERVE: 0, ResponseAction.ALERT: 1, ResponseAction.TERMINATE: 2}


def strictest_settings(policy: Policy) -> EffectiveSettings:
    """The scope (or the defaults) that acts hardest on findings; ``classify`` judges under it."""

    def strictness(settings: EffectiveSettings) -> tuple[int, ...]:
        return tuple(
            _ACTION_RANK[settings.actions.get(sev, ResponseAction.OBSERVE)]
            for sev in sorted(Severity, key=lambda s: s.rank)
        )

    return max(all_settings(policy), key=strictness)


def active_exemption(
    policy: Policy,
    *,
    principal_arn: str | None,
    target_id: str | None,
    rule_or_limit: str,
    now: datetime,
) -> Exemption | None:
    """The first unexpired exemption that covers this principal, target and rule (or limit)."""
    for exemption in policy.exemptions:
        if exemption.expires <= now:
            continue
        if exemption.principal and not _any_glob(principal_arn, [exemption.principal]):
            continue
        if exemption.target and not _any_glob(target_id, [exemption.target]):
            continue
        if exemption.rule and not fnmatchcase(rule_or_limit, exemption.rule):
            continue
        return exemption
    return None
