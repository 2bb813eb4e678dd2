"""Decisions about the keyless paths onto a node. Pure: the caller looks up tags and counts.

- using a path at all, per scope (``keyless: {instance_connect: alert}``: "no Instance Connect on
  prod"); only an ECS Exec session, a Session Manager session, can be terminated: for the others a
  ``terminate`` response becomes an alert that says so (a pushed key or a tunnel has no API that ends it);
- a tunnel to a port the scope denies (``denied_tunnel_ports: [22]``: ``StartCheck.TUNNEL_PORT``);
- more open accesses than ``max_concurrent_sessions.per_principal`` allows, keyless ones counted with
  the principal's open sessions (an alert: ssm-warden cannot end the other paths);
- an ECS Exec command the detector flags (its only trace when the session is not interactive);
- Fleet Manager RDP recording switched off (``StartCheck.RDP_RECORDING_OFF``, account level).
"""

from __future__ import annotations

from datetime import datetime

from ssm_warden.audit import NO_SESSION
from ssm_warden.clock import iso
from ssm_warden.enforce.decide import Decisions, decide_findings, effective_mode
from ssm_warden.models.access import KeylessAccess, KeylessPath, RecordingSwitchedOff
from ssm_warden.models.actions import ActionKind, ActionRequest, Mode, SessionRef, Trigger, action_id_for
from ssm_warden.models.findings import Finding, Severity
from ssm_warden.policy.evaluate import EffectiveSettings
from ssm_warden.policy.loader import LoadedPolicy
from ssm_warden.policy.model import KeylessPathName, ResponseAction, StartCheck

PATH_TITLES = {
    KeylessPath.ECS_EXEC: "ECS Exec into a container",
    KeylessPath.INSTANCE_CONNECT: "EC2 Instance Connect key pushed",
    KeylessPath.ENDPOINT_TUNNEL: "Instance Connect Endpoint tunnel opened",
    KeylessPath.FLEET_MANAGER_RDP: "Fleet Manager RDP connection",
}


def access_facts(change: KeylessAccess) -> dict[str, str]:
    """What the alert shows about the access (strings only, from CloudTrail)."""
    facts: dict[str, str] = {"path": change.path.value}
    for name in ("cluster", "task", "container", "command", "os_user", "key_fingerprint", "endpoint_id"):
        value = getattr(change, name)
        if value:
            facts[name] = str(value)
    if change.interactive is not None:
        facts["interactive"] = str(change.interactive).lower()
    if change.port is not None:
        facts["port"] = str(change.port)
    if change.max_duration_seconds is not None:
        facts["max_duration_seconds"] = str(change.max_duration_seconds)
    if change.source_ip:
        facts["source_ip"] = change.source_ip
    return facts


def keyless_ref(change: KeylessAccess, target_id: str | None, tags: dict[str, str]) -> SessionRef:
    session_id = change.access_id if change.path is KeylessPath.ECS_EXEC else NO_SESSION
    return SessionRef(
        session_id=session_id,
        account=change.account,
        region=change.region,
        principal_arn=change.principal.arn,
        target_id=target_id,
        target_tags=tags,
        document_name=change.path.value,
        started_at=change.at,
        cloudtrail_event_id=change.event_id,
        access=access_facts(change),
    )


def _action(
    change: KeylessAccess,
    session: SessionRef,
    settings: EffectiveSettings,
    policy: LoadedPolicy,
    now: datetime,
    force_monitor: bool,
    *,
    check: str,
    response: ResponseAction,
    title: str,
    why: str,
    severity: Severity,
) -> ActionRequest:
    terminable = change.path is KeylessPath.ECS_EXEC
    kind = ActionKind.TERMINATE if response is ResponseAction.TERMINATE and terminable else ActionKind.ALERT
    if response is ResponseAction.TERMINATE and not terminable:
        why += "; the policy says terminate, but this path has no session ssm-warden can end"
    return ActionRequest(
        action_id=action_id_for("keyless", change.account, change.region, change.access_id, check),
        kind=kind,
        mode=effective_mode(settings, check, force_monitor) if kind is ActionKind.TERMINATE else Mode.ENFORCE,
        trigger=Trigger.START_CHECK,
        severity=severity,
        session=session,
        title=title,
        why=why,
        rule_or_limit=check,
        policy_version=policy.version,
        scope=settings.scope,
        channel=settings.channel_for(severity),
        created_at=now,
    )


def check_keyless(
    *,
    change: KeylessAccess,
    session: SessionRef,
    settings: EffectiveSettings,
    policy: LoadedPolicy,
    now: datetime,
    open_count: int,
    command_findings: list[Finding],
    force_monitor: bool = False,
) -> Decisions:
    out = Decisions()
    who = change.principal.arn or "unknown principal"
    where = session.target_id or "an unknown target"
    response = settings.keyless.get(KeylessPathName(change.path.value), ResponseAction.OBSERVE)
    if response is not ResponseAction.OBSERVE:
        detail = ""
        if change.path is KeylessPath.INSTANCE_CONNECT:
            detail = f" as OS user {change.os_user or '?'} (key {change.key_fingerprint or 'not recorded'})"
        elif change.path is KeylessPath.ENDPOINT_TUNNEL:
            detail = f" to port {change.port} through {change.endpoint_id or '?'}"
        elif change.path is KeylessPath.ECS_EXEC:
            detail = f" ({change.container or '?'}: {change.command or '?'})"
        out.actions.append(
            _action(
                change,
                session,
                settings,
                policy,
                now,
                force_monitor,
                check=f"keyless.{change.path.value}",
                response=response,
                title=PATH_TITLES[change.path],
                why=f"scope {settings.scope!r} watches {change.path.value}: {who} on {where}{detail}",
                severity=Severity.HIGH,
            )
        )
    if change.path is KeylessPath.ENDPOINT_TUNNEL and change.port in settings.denied_tunnel_ports:
        port_response = settings.start_check_action(StartCheck.TUNNEL_PORT)
        if port_response is not ResponseAction.OBSERVE:
            out.actions.append(
                _action(
                    change,
                    session,
                    settings,
                    policy,
                    now,
                    force_monitor,
                    check=StartCheck.TUNNEL_PORT.value,
                    response=port_response,
                    title=f"Tunnel to denied port {change.port}",
                    why=(
                        f"scope {settings.scope!r} denies tunnels to port {change.port}; "
                        f"{who} opened one to {where}"
                    ),
                    severity=Severity.HIGH,
                )
            )
    limit = settings.max_concurrent_sessions.per_principal
    if limit and open_count > limit:
        concurrency = settings.start_check_action(StartCheck.CONCURRENCY)
        if concurrency is not ResponseAction.OBSERVE:
            out.actions.append(
                _action(
                    change,
                    session,
                    settings,
                    policy,
                    now,
                    force_monitor,
                    check=StartCheck.CONCURRENCY.value,
                    response=ResponseAction.ALERT,
                    title="Too many open accesses for one principal",
                    why=(
                        f"{who} has {open_count} open sessions and keyless accesses, more than {limit}; "
                        f"this {change.path.value} is the newest"
                    ),
                    severity=Severity.MEDIUM,
                )
            )
    if command_findings:
        out.extend(
            decide_findings(
                session=session,
                findings=command_findings,
                settings=settings,
                policy=policy,
                now=now,
                source_id="ecs-exec-command",
                force_monitor=force_monitor,
            )
        )
    return out


def recording_off_action(
    change: RecordingSwitchedOff, *, settings: EffectiveSettings, policy: LoadedPolicy, now: datetime
) -> ActionRequest | None:
    response = settings.start_check_action(StartCheck.RDP_RECORDING_OFF)
    if response is ResponseAction.OBSERVE:
        return None
    return ActionRequest(
        action_id=action_id_for("tamper", change.event_id),
        kind=ActionKind.ALERT,  # nothing to terminate: an account setting changed
        mode=Mode.ENFORCE,
        trigger=Trigger.TAMPER,
        severity=Severity.HIGH,
        session=SessionRef(
            session_id=NO_SESSION,
            account=change.account,
            region=change.region,
            principal_arn=change.principal.arn,
            cloudtrail_event_id=change.event_id,
        ),
        title="Fleet Manager RDP recording switched off",
        why=f"{change.principal.arn or 'unknown principal'} at {iso(change.at)}: {change.detail}",
        rule_or_limit=f"tamper.{StartCheck.RDP_RECORDING_OFF.value}",
        policy_version=policy.version,
        scope=settings.scope,
        channel=settings.channel_for(Severity.HIGH),
        created_at=now,
    )
