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

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from ssm_warden.audit import NO_SESSION
from ssm_warden.enforce.decide import Decisions, decide_findings, effective_mode
from ssm_warden.enforce.session_ref import session_ref
from ssm_warden.enforce.unwatched_shell import classify
from ssm_warden.models.actions import ActionKind, ActionRequest, SessionRef, Trigger, action_id_for
from ssm_warden.models.findings import Finding, Severity
from ssm_warden.models.session import DeniedAttempt, Principal, SessionRecord
from ssm_warden.policy.evaluate import EffectiveSettings
from ssm_warden.policy.loader import LoadedPolicy
from ssm_warden.policy.model import ResponseAction, StartCheck
from ssm_warden.policy.visible import has_visible_text

COMMAND_DOCUMENTS = ("AWS-StartInteractiveCommand", "AWS-StartNonInteractiveCommand")
SHELL_DOCUMENT = "SSM-SessionManagerRunShell"
_EPOCH_KEY = "0000"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
TITLE_PER_PRINCIPAL = "Too many sessions for one principal"
TITLE_PER_TARGET = "Too many sessions on one target"


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


def _start_order(record: SessionRecord) -> tuple[datetime, str]:
    return (record.started_at or record.last_resumed_at or _EPOCH, record.session_id)


def concurrency_actions(
    ordered: Sequence[SessionRecord],
    *,
    per: str,
    settings_for: Callable[[SessionRecord], EffectiveSettings],
    policy: LoadedPolicy,
    now: datetime,
    force_monitor: bool,
) -> list[tuple[SessionRecord, ActionRequest]]:
    """Actions for the open sessions of one principal (``per="principal"``) or on one target that are
    beyond their scope's limit, counted in start order (oldest first; the session id breaks ties).

    Whatever order CloudTrail delivers the StartSession events in, the sessions acted on are the
    newest ones: the event that pushes a group over the limit may be an older session's, arriving late,
    and then the action is about another (newer) session of the same group."""
    out: list[tuple[SessionRecord, ActionRequest]] = []
    for index, record in enumerate(sorted(ordered, key=_start_order)):
        if index == 0:  # every limit is at least 1: the oldest session is never beyond it
            continue
        settings = settings_for(record)
        limits = settings.max_concurrent_sessions
        limit = limits.per_principal if per == "principal" else limits.per_target
        if not limit or index < limit:
            continue
        if per == "principal":
            who, title = record.principal.arn if record.principal else None, TITLE_PER_PRINCIPAL
        else:
            who, title = record.target_id, TITLE_PER_TARGET
        action = _check_action(
            StartCheck.CONCURRENCY,
            settings.start_check_action(StartCheck.CONCURRENCY),
            session_ref(record),
            settings,
            policy,
            now,
            force_monitor,
            title,
            f"{who} has more than {limit} open sessions; this is the newest",
        )
        if action:
            out.append((record, action))
    return out


def _with_this(this: SessionRef, open_sessions: Sequence[SessionRecord]) -> list[SessionRecord]:
    """The open sessions with this one among them (the index may not show our own write yet)."""
    if any(r.session_id == this.session_id for r in open_sessions):
        return list(open_sessions)
    me = SessionRecord(
        session_id=this.session_id,
        account=this.account,
        region=this.region,
        target_id=this.target_id,
        target_tags=this.target_tags,
        document_name=this.document_name,
        started_at=this.started_at,
        principal=Principal(arn=this.principal_arn) if this.principal_arn else None,
    )
    return [*open_sessions, me]


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
    settings_for: Callable[[SessionRecord], EffectiveSettings] | None = None,
) -> Decisions:
    """``settings_for``: the settings of another open session (default: this session's), so that a
    late event acts on the newer sessions it pushes over their own scope's limit."""
    if settings_for is None:
        settings_for = lambda _record: settings  # noqa: E731
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
    if settings.require_reason and not has_visible_text(session.reason):
        add(
            StartCheck.MISSING_REASON,
            "Session started without a reason",
            f"scope {settings.scope!r} requires a reason (aws ssm start-session --reason ...)",
        )
    queued = {a.action_id for a in out.actions}
    for per, group in (("principal", open_for_principal), ("target", open_for_target)):
        for _record, action in concurrency_actions(
            _with_this(session, group),
            per=per,
            settings_for=lambda r: settings if r.session_id == session.session_id else settings_for(r),
            policy=policy,
            now=now,
            force_monitor=force_monitor,
        ):
            if action.action_id in queued:  # over both limits: one action
                continue
            queued.add(action.action_id)
            mine = action.session is not None and action.session.session_id == session.session_id
            out.actions.append(action.model_copy(update={"session": session}) if mine else action)
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
