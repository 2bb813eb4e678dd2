"""Checks on a session as it starts, and on denied attempts. Pure: lookups are done by the caller.

- a document the scope does not allow (e.g. port forwarding into prod);
- no reason where the scope requires one;
- an interactive-command session whose command the detector flags (its only visible trace);
- a command session whose command opens a shell, interpreter, pager or editor
  (``start_checks.unwatched_shell``): command sessions are not streamed, so that is an unwatched shell;
- more open sessions than ``max_concurrent_sessions`` allows, per principal and per target: the
  sessions beyond the limit, newest first, are the ones acted on;
- a denied StartSession on a target whose scope cares (``start_checks.denied_start``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ssm_warden.audit import NO_SESSION
from ssm_warden.enforce.decide import Decisions, decide_findings, effective_mode
from ssm_warden.enforce.unwatched_shell import classify
from ssm_warden.models.actions import ActionKind, ActionRequest, SessionRef, Trigger, action_id_for
from ssm_warden.models.findings import Finding, Severity
from ssm_warden.models.session import DeniedAttempt, SessionRecord
from ssm_warden.policy.evaluate import EffectiveSettings
from ssm_warden.policy.loader import LoadedPolicy
from ssm_warden.policy.model import ResponseAction, StartCheck

COMMAND_DOCUMENTS = ("AWS-StartInteractiveCommand", "AWS-StartNonInteractiveCommand")
SHELL_DOCUMENT = "SSM-SessionManagerRunShell"
_EPOCH_KEY = "0000"


def interactive_command(document: str | None, parameters: dict[str, object]) -> str | None:
    """The command of a command session (CloudTrail's only copy): AWS's two command documents, or
    any other document given a ``command`` parameter (a custom InteractiveCommands document). The
    shell document (``SSM-SessionManagerRunShell``, or none named) takes no command: it is streamed."""
    if document in (None, "", SHELL_DOCUMENT):
        return None
    if document not in COMMAND_DOCUMENTS and "command" not in parameters:
        return None
    value = parameters.get("command")
    if isinstance(value, list):
        return "\n".join(str(v) for v in value) or None
    return str(value) if value else None


def _check_action(
    check: StartCheck,
    response: ResponseAction,
    session: SessionRef,
    settings: EffectiveSettings,
    policy: LoadedPolicy,
    now: datetime,
    force_monitor: bool,
    title: str,
    why: str,
    severity: Severity = Severity.HIGH,
) -> ActionRequest | None:
    if response is ResponseAction.OBSERVE:
        return None
    kind = ActionKind.TERMINATE if response is ResponseAction.TERMINATE else ActionKind.ALERT
    return ActionRequest(
        action_id=action_id_for("start", session.account, session.region, session.session_id, check.value),
        kind=kind,
        mode=effective_mode(settings, check.value, force_monitor),
        trigger=Trigger.START_CHECK,
        severity=severity,
        session=session,
        title=title,
        why=why,
        rule_or_limit=check.value,
        policy_version=policy.version,
        scope=settings.scope,
        channel=settings.channel_for(severity),
        created_at=now,
    )


def _over_limit(this: str, open_sessions: Sequence[SessionRecord], limit: int | None) -> bool:
    if not limit:
        return False
    ids = [r.session_id for r in open_sessions]
    if this not in ids:  # the index may not show our own write yet: we are the newest
        ids.append(this)
    return ids.index(this) >= limit


def check_start(
    *,
    session: SessionRef,
    parameters: dict[str, object],
    settings: EffectiveSettings,
    policy: LoadedPolicy,
    now: datetime,
    command_findings: list[Finding],
    open_for_principal: Sequence[SessionRecord],
    open_for_target: Sequence[SessionRecord],
    force_monitor: bool = False,
) -> Decisions:
    out = Decisions()
    document = session.document_name or ""

    def add(check: StartCheck, title: str, why: str) -> None:
        action = _check_action(
            check,
            settings.start_check_action(check),
            session,
            settings,
            policy,
            now,
            force_monitor,
            title,
            why,
        )
        if action:
            out.actions.append(action)

    if not settings.allows_document(document):
        add(
            StartCheck.DOCUMENT_NOT_ALLOWED,
            "Session document not allowed",
            f"scope {settings.scope!r} allows {', '.join(settings.allowed_documents)}; "
            f"this session uses {document}",
        )
    if settings.require_reason and not (session.reason or "").strip():
        add(
            StartCheck.MISSING_REASON,
            "Session started without a reason",
            f"scope {settings.scope!r} requires a reason (aws ssm start-session --reason ...)",
        )
    limits = settings.max_concurrent_sessions
    if _over_limit(session.session_id, open_for_principal, limits.per_principal):
        add(
            StartCheck.CONCURRENCY,
            "Too many sessions for one principal",
            f"{session.principal_arn} has more than {limits.per_principal} open sessions; this is the newest",
        )
    elif _over_limit(session.session_id, open_for_target, limits.per_target):
        add(
            StartCheck.CONCURRENCY,
            "Too many sessions on one target",
            f"{session.target_id} has more than {limits.per_target} open sessions; this is the newest",
        )
    command = interactive_command(session.document_name, parameters)
    unwatched = classify(command) if command else None
    if unwatched is not None:
        add(
            StartCheck.UNWATCHED_SHELL,
            f"Command session opens an unwatched {unwatched.kind}",
            f"{document or 'the session'} runs {command!r}: {unwatched.why}. Command sessions are not "
            "streamed, so nothing done in it is seen until its transcript arrives when it ends",
        )
    if command_findings:
        out.extend(
            decide_findings(
                session=session,
                findings=command_findings,
                settings=settings,
                policy=policy,
                now=now,
                source_id="start-command",
                force_monitor=force_monitor,
            )
        )
    return out


def check_denied(
    *,
    attempt: DeniedAttempt,
    target_tags: dict[str, str],
    settings: EffectiveSettings,
    policy: LoadedPolicy,
    now: datetime,
) -> Decisions:
    """An alert for a denied StartSession where the target's scope asks for one."""
    out = Decisions()
    if attempt.event_name != "StartSession":
        return out
    session = SessionRef(
        session_id=NO_SESSION,
        account=attempt.account,
        region=attempt.region,
        principal_arn=attempt.principal.arn,
        target_id=attempt.target_id,
        target_tags=target_tags,
        document_name=attempt.document_name,
        started_at=attempt.at,
        cloudtrail_event_id=attempt.event_id,
    )
    response = settings.start_check_action(StartCheck.DENIED_START)
    if response is ResponseAction.OBSERVE:
        return out
    out.actions.append(
        ActionRequest(
            action_id=action_id_for("denied", attempt.account, attempt.region, attempt.event_id),
            kind=ActionKind.ALERT,  # nothing to terminate: the call failed
            mode=settings.mode,
            trigger=Trigger.DENIED_START,
            severity=Severity.MEDIUM,
            session=session,
            title="Denied StartSession on a protected target",
            why=f"{attempt.principal.arn} was refused a session on {attempt.target_id}: {attempt.error_code}",
            rule_or_limit=StartCheck.DENIED_START.value,
            policy_version=policy.version,
            scope=settings.scope,
            channel=settings.channel_for(Severity.MEDIUM),
            created_at=now,
        )
    )
    return out
