"""A session's timeline for ``ssm-warden replay``: the commands rebuilt from its log events, what the
detector says of each, and the audit decisions, in time order; as text, JSON or an HTML page.

Pure: the events and records are passed in. Everything from the session is attacker-controlled: the
text form shows control characters as escapes (a session must not drive the reader's terminal) and
the HTML form escapes everything; both mask secrets as Slack alerts do.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class LogEvent:
    event_id: str
    at: datetime
    lines: list[str]


@dataclass
class Entry:
    at: datetime
    kind: str  # "command" | "audit"
    text: str
    findings: list[dict[str, Any]] = field(default_factory=list)
    decision: str | None = None
    outcome: str | None = None
    actor: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "kind": self.kind,
            "text": self.text,
            "findings": self.findings,
            "decision": self.decision,
            "outcome": self.outcome,
            "actor": self.actor,
        }


def visible(text: str) -> str:
    """Secrets masked and control characters (ESC, BEL, C1, ...) shown as ``\\xNN``."""
    from ssm_warden.slack.redact import redact

    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", redact(text))


def build(events: list[LogEvent], records: list[Any], detector: Any) -> list[Entry]:
    """The timeline: each command at the time of the log event it started in, and each audit record."""
    from ssm_warden.transcript.extract import Extractor

    extractor = Extractor()
    times = {}
    for event in events:
        extractor.feed(event.event_id, event.lines)
        times[event.event_id] = event.at
    extractor.flush()
    entries = []
    for command in extractor.result.commands:
        findings = [
            {"rule": f.rule, "severity": f.severity.value, "title": f.title, "reason": f.reason}
            for f in detector.judge_command(command.text, command.shell)
        ]
        at = times.get(command.event_id, datetime.min.replace(tzinfo=UTC))
        entries.append(Entry(at=at, kind="command", text=visible(command.text), findings=findings))
    for r in records:
        details = r.details or {}
        text = r.rule_or_limit or r.action or ""
        why = details.get("why") or details.get("reason")
        entries.append(
            Entry(
                at=r.at,
                kind="audit",
                text=visible(": ".join(part for part in (text, why) if part)),
                decision=r.decision.value,
                outcome=visible(r.outcome),
                actor=r.actor,
            )
        )
    # Commands before decisions at the same second: a decision follows what caused it.
    return sorted(entries, key=lambda e: (e.at, e.kind != "command"))


def render_text(session: dict[str, Any], entries: list[Entry]) -> str:
    lines = [
        f"session {session['session_id']}: {session.get('principal') or '?'} -> "
        f"{session.get('target') or '?'} ({session.get('state') or 'not in the ledger'}); "
        f"{session.get('events', 0)} log events from {session.get('source')}"
    ]
    for e in entries:
        stamp = f"{e.at:%H:%M:%S}"
        if e.kind == "command":
            lines.append(f"{stamp}  $ {e.text}")
            lines.extend(f"{'':10}{f['severity'].upper()} {f['rule']}: {f['reason']}" for f in e.findings)
        else:
            lines.append(f"{stamp}  [{e.decision}] {e.text} -> {e.outcome} ({e.actor})")
    return "\n".join(lines) + "\n"


_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;background:#f8f8f8;margin:2em;
color:#1d1c1d}
.timeline{max-width:860px;margin:0 auto 2em;border-left:3px solid #ccc;padding-left:16px}
.entry{background:#fff;border:1px solid #ddd;border-radius:8px;padding:10px 14px;margin:10px 0}
.entry.audit{background:#fdf8ec;border-color:#ecd9a5}
.entry.flagged{border-color:#e01e5a}
.meta{color:#888;font-size:12px;margin-bottom:6px}
pre{background:#f4f4f4;border:1px solid #e0e0e0;border-radius:4px;padding:8px;white-space:pre-wrap;
word-break:break-all;margin:4px 0}
.finding{color:#e01e5a;font-size:13px;margin:4px 0}
.facts{max-width:860px;margin:0 auto 1em;color:#616061}
"""


def render_html(session: dict[str, Any], entries: list[Entry]) -> str:
    e = html.escape
    cards = []
    for entry in entries:
        stamp = f"{entry.at:%Y-%m-%d %H:%M:%S}Z"
        if entry.kind == "command":
            findings = "".join(
                f"<div class='finding'>{e(f['severity'].upper())} {e(f['rule'])}: {e(f['reason'])}</div>"
                for f in entry.findings
            )
            flagged = " flagged" if entry.findings else ""
            cards.append(
                f"<div class='entry command{flagged}'><div class='meta'>{e(stamp)} command</div>"
                f"<pre>{e(entry.text)}</pre>{findings}</div>"
            )
        else:
            cards.append(
                f"<div class='entry audit'><div class='meta'>{e(stamp)} {e(entry.decision or '')} "
                f"by {e(entry.actor or '')}</div>{e(entry.text)} &rarr; <b>{e(entry.outcome or '')}</b></div>"
            )
    title = f"ssm-warden replay: {session['session_id']}"
    facts = (
        f"{e(str(session.get('principal') or '?'))} on {e(str(session.get('target') or '?'))}; "
        f"{e(str(session.get('state') or 'not in the ledger'))}; source {e(str(session.get('source')))}"
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{e(title)}</title>"
        f"<style>{_CSS}</style></head><body><h1 class='facts'>{e(title)}</h1><div class='facts'>{facts}</div>"
        f"<div class='timeline'>{''.join(cards)}</div></body></html>"
    )
