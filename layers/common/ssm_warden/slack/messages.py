"""Block Kit messages an on-call person understands at a glance.

Pure functions from ssm-warden's models to ``SlackMessage`` (fallback ``text`` plus blocks). Every piece
of session text goes through ``ssm_warden.slack.redact`` (commands in code blocks, other text
sanitised); Slack's limits (50 blocks, 3,000 characters in a section, 2,000 in a field, 150 in a
header) are met by truncating, never by failing. Blocks are built with ``slack_sdk.models.blocks``,
whose validators would raise on a limit: truncation happens before they run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from ssm_warden.clock import iso
from ssm_warden.models.actions import ActionKind, ActionRequest, SessionRef
from ssm_warden.models.findings import Finding, Severity
from ssm_warden.slack.redact import code_block, inline_code, plain, sanitize

# Slack's limits (https://docs.slack.dev/reference/block-kit/blocks).
MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000
MAX_FIELDS = 10
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_BUTTON_TEXT = 75
MAX_MESSAGE_TEXT = 40_000
# The fallback ``text`` is what notifications and screen readers show: kept short on purpose.
FALLBACK_TEXT = 1_000
# Findings shown in one alert; the rest are counted.
MAX_FINDINGS_SHOWN = 5
MAX_TAGS_SHOWN = 8

Outcome = Literal["terminated", "would_terminate", "alert_only", "warned", "failed"]
SessionStatus = Literal["active", "terminated", "termination_failed", "ended"]

# Button action ids: the interactions function dispatches on these.
ACTION_TERMINATE = "ssmw.terminate"
ACTION_EXTEND_PREFIX = "ssmw.extend."
ACTION_ACK = "ssmw.ack"
DEFAULT_EXTEND_MINUTES = 30

_SEVERITY_ICON = {
    Severity.CRITICAL: ":red_circle:",
    Severity.HIGH: ":large_orange_circle:",
    Severity.MEDIUM: ":large_yellow_circle:",
    Severity.LOW: ":large_blue_circle:",
}

_OUTCOME_LINE: dict[str, str] = {
    "terminated": ":octagonal_sign: *Session terminated* by ssm-warden.",
    "would_terminate": ":eyes: *Would terminate* (monitor mode): the session is still running.",
    "alert_only": ":bell: *Alert only*: no action taken on the session.",
    "warned": ":hourglass_flowing_sand: *Warning*: the session's owner has been told.",
    "failed": ":exclamation: *Action FAILED*: the session may still be running. Act on it by hand.",
}

_OUTCOME_SHORT: dict[str, str] = {
    "terminated": "terminated",
    "would_terminate": "would terminate (monitor)",
    "alert_only": "alert only",
    "warned": "warned",
    "failed": "ACTION FAILED",
}

_ATTACK_ID = re.compile(r"^T\d{4}(?:\.\d{3})?$")
_EVENT_ID = re.compile(r"^[0-9a-fA-F-]{16,64}$")


@dataclass(frozen=True)
class SlackMessage:
    """What is sent to Slack: the fallback ``text`` and the blocks, as JSON-ready dicts."""

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}

    def text_only(self) -> SlackMessage:
        """The same message without blocks (the fallback when Slack refuses the blocks)."""
        return SlackMessage(text=self.text)


class SessionSummary(BaseModel):
    """What a session amounted to, for the end-of-session update of its thread."""

    model_config = ConfigDict(frozen=True)

    started_at: datetime | None = None
    ended_at: datetime
    commands_seen: int = 0
    findings: int = 0
    actions: dict[str, int] = Field(default_factory=dict)  # action kind -> count
    worst_severity: Severity | None = None
    ended_by: str | None = None  # "exit", "ssm-warden", an ARN, ...
    folded_alerts: int = 0  # repeats folded into earlier messages


# ---------------------------------------------------------------------------------------------------
# Small helpers


def truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)] + "\u2026"


def _fit_code(raw: str, limit: int) -> str:
    """A code block of ``raw`` that fits in ``limit`` characters (the fences stay intact)."""
    block = code_block(raw)
    if len(block) <= limit:
        return block
    note = "\n\u2026 (truncated)"
    inner = block[3:-3][: max(limit - 6 - len(note), 0)]
    return f"```{inner}{note}```"


def _section(text: str) -> dict[str, Any]:
    return SectionBlock(text=MarkdownTextObject(text=truncate(text, MAX_SECTION_TEXT))).to_dict()


def _fields(items: list[str]) -> dict[str, Any]:
    fields = [MarkdownTextObject(text=truncate(i, MAX_FIELD_TEXT)) for i in items[:MAX_FIELDS]]
    return SectionBlock(fields=fields).to_dict()


def _context(items: list[str]) -> dict[str, Any]:
    elements = [MarkdownTextObject(text=truncate(i, MAX_SECTION_TEXT)) for i in items[:MAX_CONTEXT_ELEMENTS]]
    return ContextBlock(elements=elements).to_dict()


def _header(text: str) -> dict[str, Any]:
    return HeaderBlock(
        text=PlainTextObject(text=truncate(plain(text), MAX_HEADER_TEXT), emoji=True)
    ).to_dict()


def _divider() -> dict[str, Any]:
    return DividerBlock().to_dict()


def _fit_blocks(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """At most ``MAX_BLOCKS`` blocks: the last kept one says how many were left out."""
    if len(blocks) <= MAX_BLOCKS:
        return blocks
    kept = blocks[: MAX_BLOCKS - 1]
    return [*kept, _context([f"\u2026 {len(blocks) - len(kept)} more blocks left out"])]


def _message(text: str, blocks: list[dict[str, Any]]) -> SlackMessage:
    return SlackMessage(text=truncate(text, FALLBACK_TEXT), blocks=_fit_blocks(blocks))


def severity_label(severity: Severity) -> str:
    return f"{_SEVERITY_ICON[severity]} {severity.value.upper()}"


def who(principal_arn: str | None) -> str:
    """The readable part of a principal ARN: ``assumed-role/Admin/alice`` (the rest is in the root)."""
    if not principal_arn:
        return "unknown principal"
    return principal_arn.rsplit(":", 1)[-1] or principal_arn


def console_base(region: str) -> str:
    if region.startswith("cn-"):
        return f"https://{region}.console.amazonaws.cn"
    if region.startswith("us-gov-"):
        return f"https://{region}.console.amazonaws-us-gov.com"
    return f"https://{region}.console.aws.amazon.com"


def _console_path(value: str) -> str:
    """The CloudWatch console's double encoding (``/`` becomes ``$252F``)."""
    return quote(quote(value, safe=""), safe="").replace("%", "$")


def log_stream_url(session: SessionRef) -> str | None:
    """The session's log stream (named after the session id) in the CloudWatch console."""
    if not session.log_group:
        return None
    return (
        f"{console_base(session.region)}/cloudwatch/home?region={quote(session.region)}"
        f"#logsV2:log-groups/log-group/{_console_path(session.log_group)}"
        f"/log-events/{_console_path(session.session_id)}"
    )


def cloudtrail_event_url(session: SessionRef) -> str | None:
    """The StartSession event in the CloudTrail console."""
    event_id = session.cloudtrail_event_id
    if not event_id or not _EVENT_ID.match(event_id):
        return None
    return (
        f"{console_base(session.region)}/cloudtrailv2/home?region={quote(session.region)}#/events/{event_id}"
    )


def _link(url: str, label: str) -> str:
    # The URL is built here from percent-encoded parts: it holds no ``|`` or ``>``.
    return f"<{url}|{sanitize(label)}>"


def attack_ref(technique: str) -> str:
    """An ATT&CK technique id as a link to its page (or as inline code when it is not an id)."""
    if _ATTACK_ID.match(technique):
        path = technique.replace(".", "/")
        return _link(f"https://attack.mitre.org/techniques/{path}/", technique)
    return inline_code(technique)


def _tags(tags: dict[str, str]) -> str:
    if not tags:
        return "no tags"
    shown = [inline_code(truncate(f"{k}={v}", 80)) for k, v in sorted(tags.items())[:MAX_TAGS_SHOWN]]
    more = len(tags) - len(shown)
    return " ".join(shown) + (f" +{more} more" if more > 0 else "")


def _target(session: SessionRef) -> str:
    return inline_code(session.target_id or "unknown target")


def _duration(seconds: float) -> str:
    minutes, _ = divmod(int(max(seconds, 0)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m"


def _attack_ids(action: ActionRequest) -> list[str]:
    seen: list[str] = []
    for f in action.findings:
        if f.attack and f.attack not in seen:
            seen.append(f.attack)
    return seen


def button_value(action: ActionRequest) -> str | None:
    """Ids only (account, region, session id, action id): never free text."""
    if action.session is None:
        return None
    s = action.session
    return json.dumps(
        {"a": s.account, "r": s.region, "s": s.session_id, "x": action.action_id}, separators=(",", ":")
    )


def _buttons(action: ActionRequest, extend_minutes: int) -> dict[str, Any] | None:
    value = button_value(action)
    if value is None:
        return None
    confirm = ConfirmObject(
        title="Terminate this session?",
        text=truncate(f"End session {plain(action.session.session_id if action.session else '')} now?", 300),
        confirm="Terminate",
        deny="Cancel",
        style="danger",
    )
    return ActionsBlock(
        elements=[
            ButtonElement(
                text="Terminate now", action_id=ACTION_TERMINATE, value=value, style="danger", confirm=confirm
            ),
            ButtonElement(
                text=f"Extend {extend_minutes} min",
                action_id=f"{ACTION_EXTEND_PREFIX}{extend_minutes}",
                value=value,
            ),
            ButtonElement(text="Acknowledge", action_id=ACTION_ACK, value=value, style="primary"),
        ]
    ).to_dict()


# ---------------------------------------------------------------------------------------------------
# Alerts


def headline(action: ActionRequest, outcome: str) -> str:
    """One mrkdwn line: severity, title, ATT&CK ids, outcome. Also the thread root's headline."""
    attack = " ".join(attack_ref(a) for a in _attack_ids(action))
    short = _OUTCOME_SHORT.get(outcome, outcome)
    parts = [f"{severity_label(action.severity)} *{sanitize(action.title)}*"]
    if attack:
        parts.append(f"({attack})")
    parts.append(f"\u2014 {sanitize(short)}")
    return " ".join(parts)


def _fallback(action: ActionRequest, outcome: str, repeat_count: int) -> str:
    s = action.session
    where = f" \u00b7 {who(s.principal_arn)} \u2192 {s.target_id or '?'} ({s.session_id})" if s else ""
    if action.claimed is not None:
        where = f" \u00b7 log stream {action.claimed.session_id} (claimed, unverified)"
    times = f" \u00d7{repeat_count}" if repeat_count > 1 else ""
    short = _OUTCOME_SHORT.get(outcome, outcome)
    return sanitize(f"[{action.severity.value.upper()}] {action.title}{times} \u2014 {short}{where}")


def _finding_block(finding: Finding) -> dict[str, Any]:
    title = f"*{sanitize(finding.title)}* {inline_code(finding.rule)}"
    if finding.attack:
        title += f" \u00b7 {attack_ref(finding.attack)}"
    reason = sanitize(finding.reason)
    prefix = f"{title}\n{truncate(reason, 500)}\n"
    return _section(prefix + _fit_code(finding.command, MAX_SECTION_TEXT - len(prefix)))


def build_alert(
    action: ActionRequest,
    outcome: str,
    *,
    repeat_count: int = 1,
    fold_window_minutes: int | None = None,
    in_thread: bool = False,
    interactive: bool = False,
    extend_minutes: int = DEFAULT_EXTEND_MINUTES,
    note: str | None = None,
    fold_commands: Sequence[str] = (),
) -> SlackMessage:
    """The message for one action: what happened, why, the command, what ssm-warden did.

    A folded alert (``repeat_count`` > 1) shows its first occurrence and ``fold_commands``, the
    distinct command texts folded into it.

    ``in_thread``: the session's who/target/tags are already in the thread root, so they are left
    out. ``repeat_count`` > 1 marks a folded alert (a count after a multiplication sign).
    ``interactive`` adds the Terminate now / Extend / Acknowledge buttons (only for actions about a
    session that is still running).
    ``note`` is a trusted mrkdwn line added as context (built by ssm-warden, never session text).
    """
    times = f" \u00d7{repeat_count}" if repeat_count > 1 else ""
    blocks: list[dict[str, Any]] = [
        _header(
            f"{_SEVERITY_ICON[action.severity]} {action.severity.value.upper()} \u00b7 {action.title}{times}"
        )
    ]
    outcome_line = _OUTCOME_LINE.get(outcome, f":grey_question: *{sanitize(outcome)}*")
    if action.kind is ActionKind.TERMINATE and outcome == "failed":
        outcome_line = (
            ":exclamation: *Termination FAILED*: the session may still be running. Act on it by hand."
        )
    blocks.append(_section(f"{outcome_line}\n*Why:* {sanitize(action.why)}"))

    rule = inline_code(action.rule_or_limit)
    attack = _attack_ids(action)
    fields = [f"*Rule*\n{rule}" + (f" \u00b7 {' '.join(attack_ref(a) for a in attack)}" if attack else "")]
    s = action.session
    if action.claimed is not None:
        fields.extend(_claimed_fields(action))
    elif s is not None:
        fields.append(f"*Session*\n{inline_code(s.session_id)}")
        if not in_thread:
            fields.append(f"*Who*\n{inline_code(who(s.principal_arn))}")
            fields.append(f"*Target*\n{_target(s)}\n{_tags(s.target_tags)}")
        fields.append(f"*Account \u00b7 region*\n{inline_code(s.account)} \u00b7 {inline_code(s.region)}")
    scope = f"scope {inline_code(action.scope)} \u00b7 " if action.scope else ""
    fields.append(f"*Policy*\n{scope}version {inline_code(action.policy_version[:12])}")
    blocks.append(_fields(fields))

    for finding in action.findings[:MAX_FINDINGS_SHOWN]:
        blocks.append(_finding_block(finding))
    hidden = len(action.findings) - MAX_FINDINGS_SHOWN
    if hidden > 0:
        blocks.append(_context([f"+{hidden} more findings in the audit trail"]))

    if s is not None and not in_thread:
        # An alert about what a log claims links to the stream it is about, not to a session.
        linked = s.model_copy(update={"session_id": action.claimed.session_id}) if action.claimed else s
        links = _session_links(linked)
        if links:
            blocks.append(_context(links))

    context = []
    if repeat_count > 1:
        window = f" in {fold_window_minutes} min" if fold_window_minutes else ""
        context.append(f":repeat: seen \u00d7{repeat_count}{window} (first shown; all in the audit trail)")
        if fold_commands:
            listed = "\n".join(truncate(c, 300) for c in fold_commands)
            head = f"*{len(fold_commands)} distinct commands folded here:*\n"
            blocks.append(_section(head + _fit_code(listed, MAX_SECTION_TEXT - len(head))))
    if note:
        context.append(note)
    context.append(f"action {inline_code(action.action_id[:12])} \u00b7 {iso(action.created_at)}")
    blocks.append(_context(context))

    if interactive and _can_act_on(action) and outcome not in ("terminated",):
        buttons = _buttons(action, extend_minutes)
        if buttons:
            blocks.append(buttons)
    return _message(_fallback(action, outcome, repeat_count), blocks)


def _claimed_fields(action: ActionRequest) -> list[str]:
    """What a session log claims about itself, labelled as claimed: the writer's word, in code."""
    claimed = action.claimed
    assert claimed is not None
    unknown = "_none claimed_"
    fields = [
        f"*Log stream (claimed session, UNVERIFIED)*\n{inline_code(claimed.session_id)}",
        "*Claimed principal (UNVERIFIED)*\n"
        + (inline_code(claimed.principal_arn) if claimed.principal_arn else unknown),
        "*Claimed target (UNVERIFIED)*\n"
        + (inline_code(claimed.target_id) if claimed.target_id else unknown),
    ]
    s = action.session
    if s is not None:
        group = f"\n{inline_code(claimed.log_group)}" if claimed.log_group else ""
        where = f"{inline_code(s.account)} \u00b7 {inline_code(s.region)}{group}"
        fields.append(f"*Account \u00b7 region \u00b7 log group*\n{where}")
    return fields


def _can_act_on(action: ActionRequest) -> bool:
    """Buttons only for a session the ledger vouches for: never on an alert about what a log claims,
    nor on an account-level alert (no session to end)."""
    s = action.session
    return s is not None and action.claimed is None and s.session_id != "-"


# ---------------------------------------------------------------------------------------------------
# Session threads


def _session_links(session: SessionRef) -> list[str]:
    links = []
    log_url = log_stream_url(session)
    if log_url:
        links.append(_link(log_url, "Session log stream"))
    trail_url = cloudtrail_event_url(session)
    if trail_url:
        links.append(_link(trail_url, "StartSession in CloudTrail"))
    return links


def _status_line(status: str, at: datetime | None) -> str:
    when = f" at {iso(at)}" if at else ""
    return {
        "active": ":large_green_circle: *Status:* active",
        "terminated": f":octagonal_sign: *Status:* terminated by ssm-warden{when}",
        "termination_failed": ":exclamation: *Status:* termination FAILED: the session may still be running",
        "ended": f":white_circle: *Status:* ended{when}",
    }.get(status, f"*Status:* {sanitize(status)}")


_ACCESS_LABELS = {
    "os_user": "OS user",
    "key_fingerprint": "key",
    "endpoint_id": "endpoint",
    "max_duration_seconds": "max seconds",
    "source_ip": "from",
}


def _access_field(session: SessionRef) -> list[str]:
    """JIT access request (reason, approvers, window) or keyless path facts: built by ssm-warden from
    CloudTrail, every value shown as code."""
    access = session.access
    if not access:
        return []
    if "request_id" in access:
        status = inline_code(access.get("status", "?"))
        lines = [f"*Just-in-time access*\n{inline_code(access['request_id'])} \u00b7 {status}"]
        if access.get("requester"):
            lines.append(f"requested by {inline_code(access['requester'])}")
        if access.get("reason"):
            lines.append(f"reason {inline_code(truncate(access['reason'], 200))}")
        approvers = access.get("approvers")
        lines.append(
            f"approved by {inline_code(truncate(approvers, 300)) if approvers else '_not seen yet_'}"
        )
        if access.get("window_end"):
            lines.append(f"window ends {inline_code(access['window_end'])}")
        if access.get("ambiguous"):
            lines.append("_more than one request fits: never terminated on its word_")
        return ["\n".join(lines)]
    parts = [
        f"{_ACCESS_LABELS.get(k, k)} {inline_code(truncate(v, 200))}"
        for k, v in access.items()
        if k != "path"
    ]
    return [f"*Keyless access*\n{inline_code(access.get('path', '?'))}\n" + "\n".join(parts)]


def _session_fields(session: SessionRef) -> list[str]:
    started = iso(session.started_at) if session.started_at else "unknown"
    return [
        *_access_field(session),
        f"*Who*\n{inline_code(session.principal_arn or 'unknown principal')}",
        f"*Target*\n{_target(session)}\n{_tags(session.target_tags)}",
        f"*Document*\n{inline_code(session.document_name or 'SSM-SessionManagerRunShell')}",
        f"*Reason*\n{inline_code(truncate(session.reason, 300)) if session.reason else '_none given_'}",
        f"*Started*\n{started}",
        f"*Session*\n{inline_code(session.session_id)}\n{inline_code(session.account)} \u00b7 "
        f"{inline_code(session.region)}",
    ]


def summary_text(summary: SessionSummary) -> str:
    """The end-of-session summary in one mrkdwn paragraph."""
    parts = []
    if summary.started_at:
        parts.append(f"duration {_duration((summary.ended_at - summary.started_at).total_seconds())}")
    parts.append(f"{summary.commands_seen} commands seen")
    worst = f" (worst: {severity_label(summary.worst_severity)})" if summary.worst_severity else ""
    parts.append(f"{summary.findings} findings{worst}")
    if summary.actions:
        acts = ", ".join(f"{n} {sanitize(k)}" for k, n in sorted(summary.actions.items()))
        parts.append(f"actions: {acts}")
    else:
        parts.append("no actions")
    if summary.folded_alerts:
        parts.append(f"{summary.folded_alerts} repeated alerts folded")
    ended_by = (
        f"\nEnded by {inline_code(summary.ended_by)} at {iso(summary.ended_at)}" if summary.ended_by else ""
    )
    return ":bar_chart: *Session summary:* " + " \u00b7 ".join(parts) + ended_by


def build_thread_root(
    session: SessionRef,
    *,
    headline_text: str | None = None,
    status: SessionStatus | str = "active",
    status_at: datetime | None = None,
    summary: SessionSummary | None = None,
) -> SlackMessage:
    """The first message of a session's thread: who, target and tags, document, reason, links.

    ``headline_text`` (from ``headline()``) says what opened the thread; ``status`` and ``summary`` are
    filled in by later updates (termination, end of session).
    """
    target = session.target_id or "?"
    title = f":desktop_computer: SSM session \u00b7 {who(session.principal_arn)} \u2192 {target}"
    blocks = [_header(title)]
    top = [headline_text] if headline_text else []
    top.append(_status_line(str(status), status_at))
    blocks.append(_section("\n".join(top)))
    blocks.append(_fields(_session_fields(session)))
    if summary is not None:
        blocks.append(_section(summary_text(summary)))
    links = _session_links(session)
    blocks.append(_context([*links, "Findings and actions for this session are in the thread."]))
    text = sanitize(
        f"SSM session {session.session_id}: {who(session.principal_arn)} \u2192 {session.target_id or '?'}"
        f" ({status})"
    )
    return _message(text, blocks)


def build_summary(session: SessionRef, summary: SessionSummary, *, in_thread: bool = True) -> SlackMessage:
    """The end-of-session summary: a thread reply, or a standalone message (webhook, no thread)."""
    blocks = []
    if not in_thread:
        blocks.append(_header(f":bar_chart: Session ended \u00b7 {who(session.principal_arn)}"))
    blocks.append(_section(summary_text(summary)))
    if not in_thread:
        blocks.append(_fields(_session_fields(session)))
        links = _session_links(session)
        if links:
            blocks.append(_context(links))
    text = sanitize(
        f"Session {session.session_id} ended: {summary.findings} findings, {summary.commands_seen} commands"
    )
    return _message(text, blocks)


# ---------------------------------------------------------------------------------------------------
# Storm control messages


def build_budget_exceeded(budget: int, minute: datetime, what: str = "in this channel") -> SlackMessage:
    """``what``: whose budget, trusted mrkdwn (``in this channel``, ``from session `id```)."""
    until = (minute + timedelta(minutes=1)).strftime("%H:%M")
    text = (
        f":warning: *Alert budget exceeded*: more than {budget} alerts this minute {what}. "
        f"Further alerts are held back and counted until {until} UTC. Terminations, failures and "
        "critical alerts are always posted; every alert is in the audit trail."
    )
    return _message(f"Alert budget exceeded: alerts held back until {until} UTC", [_section(text)])


def build_budget_report(suppressed: int, minute: datetime) -> SlackMessage:
    start = minute.strftime("%H:%M")
    end = (minute + timedelta(minutes=1)).strftime("%H:%M")
    text = (
        f":information_source: *{suppressed} alerts were held back* between {start} and {end} UTC "
        "(alert budget). They are in the audit trail and the session threads' counts."
    )
    return _message(f"{suppressed} alerts were held back between {start} and {end} UTC", [_section(text)])


def build_interaction_note(
    blocks: list[dict[str, Any]], note: str, *, remove_buttons: bool
) -> list[dict[str, Any]]:
    """``blocks`` (a message Slack sent back with an interaction) with ``note`` added as context.

    ``note`` is trusted mrkdwn built by the caller. The buttons are removed when the session is over.
    """
    kept = [b for b in blocks if not (remove_buttons and b.get("type") == "actions")]
    return _fit_blocks([*kept[: MAX_BLOCKS - 1], _context([note])])


def blocks_of(items: list[Block]) -> list[dict[str, Any]]:
    return [b.to_dict() for b in items]
