"""``ssm-warden scan PATH...``: the commands in session transcripts, and what the detector says.

Reads transcripts as people have them:
- S3 session logs ``<sessionId>.log`` (plain text made by ``script``, ANSI codes kept), or any
  terminal transcript;
- CloudWatch Logs exports: JSON lines (one object per line, with a ``message`` or the streamed
  event itself), ``aws logs get-log-events`` / ``filter-log-events`` output (``{"events": [...]}``),
  export files whose lines are ``<timestamp> <message>``, a subscription payload
  (``{"awslogs": ...}``) or its decoded JSON (``{"logEvents": [...]}``); ``.gz`` files too.

Commands are judged under the default policy's strictest scope, or, with ``--policy FILE`` and/or
``--tag K=V``, under the scope that policy gives a session with those target tags.

Exit 1 with ``--fail-on`` when a finding reaches it; exit 2 for a missing path, an unreadable file,
a bad policy file or rule pack.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ssm_warden.cli.options import EXIT_FINDING, EXIT_OK, EXIT_USAGE, add_fail_on, add_format, plain, reaches
from ssm_warden.errors import MalformedEventError, PolicyError

# (session id, the lines of each of its log events, facts: target_id, principal_arn)
Found = tuple[str, list[list[str]], dict[str, str | None]]

_EXPORT_LINE = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)) (.*)", re.DOTALL)


@dataclass
class Transcript:
    """The log events of one session found in the input, in order."""

    session_id: str
    sources: list[str] = field(default_factory=list)
    events: list[list[str]] = field(default_factory=list)
    target_id: str | None = None
    principal_arn: str | None = None


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "scan",
        help="extract and judge the commands in session transcripts (S3 .log files, CloudWatch exports)",
        description=plain(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files or folders (searched recursively)")
    parser.add_argument("--policy", metavar="FILE", help="judge under this policy (default: the bundled one)")
    parser.add_argument(
        "--tag", action="append", default=[], metavar="KEY=VALUE", help="a target tag (selects the scope)"
    )
    parser.add_argument("--output", action="store_true", help="also list the output lines rules flagged")
    add_fail_on(parser)
    add_format(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ssm_warden.cli.options import parse_tags

    try:
        transcripts = read_paths([Path(p) for p in args.paths])
    except (OSError, ValueError) as exc:
        print(f"ssm-warden scan: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        basis = JudgingBasis.from_args(args.policy, parse_tags(args.tag))
    except PolicyError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    failed = False
    for transcript in transcripts:
        report = scan_transcript(transcript, basis)
        failed |= any(
            reaches(args.fail_on, verdict=_verdict(f["action"]), severity=f["severity"])
            for item in [*report["commands"], *report["output_findings"]]
            for f in item["findings"]
        )
        if args.format == "json":
            print(json.dumps(report))
        else:
            _print_report(report, show_output=args.output)
    return EXIT_FINDING if failed else EXIT_OK


def _verdict(action: str) -> str:
    """A policy response (observe, alert, terminate) as a classify verdict (allow, alert, terminate)."""
    return "allow" if action == "observe" else action


@dataclass(frozen=True)
class JudgingBasis:
    """The policy, and whether sessions are judged under their scope (``--policy``/``--tag``) or
    under the policy's strictest scope."""

    loaded: Any  # LoadedPolicy
    by_scope: bool
    tags: dict[str, str]

    @classmethod
    def from_args(cls, policy_file: str | None, tags: dict[str, str]) -> JudgingBasis:
        from ssm_warden.policy.loader import default_policy, load_policy_file

        loaded = load_policy_file(policy_file) if policy_file else default_policy()
        return cls(loaded, policy_file is not None or bool(tags), tags)

    def settings_for(self, transcript: Transcript) -> Any:
        from ssm_warden.monitor.service import role_arn_of
        from ssm_warden.policy.evaluate import SessionFacts, effective_settings, strictest_settings

        if not self.by_scope:
            return strictest_settings(self.loaded.policy)
        facts = SessionFacts(
            target_tags=self.tags,
            target_id=transcript.target_id,
            principal_arn=transcript.principal_arn,
            role_arn=role_arn_of(transcript.principal_arn),
            document_name="SSM-SessionManagerRunShell",
        )
        return effective_settings(self.loaded.policy, facts)


def scan_transcript(transcript: Transcript, basis: JudgingBasis) -> dict[str, Any]:
    """Extract and judge one session's transcript; a JSON-ready report."""
    from ssm_warden.detect.detector import get_detector
    from ssm_warden.monitor.judging import BatchJudge, own_network_of
    from ssm_warden.transcript.confidence import allows_termination, why_not
    from ssm_warden.transcript.extract import Extractor

    settings = basis.settings_for(transcript)
    judge = BatchJudge(get_detector(tuple(settings.rule_packs), own_network_of(settings)))

    extractor = Extractor()
    for n, lines in enumerate(transcript.events):
        extractor.feed(str(n), lines)
    extractor.flush()
    extracted = extractor.result

    def describe(findings: list[Any]) -> list[dict[str, Any]]:
        return [
            {
                "rule": f.rule,
                "severity": f.severity.value,
                "title": f.title,
                "reason": f.reason,
                "action": settings.action_for(f.severity, f.rule).value,
            }
            for f in findings
        ]

    def judged(command: Any) -> list[dict[str, Any]]:
        # Every reading of the line, as the live path judges it; a command of less than high
        # confidence (or a finding on a variant reading only) is alerted, never terminated.
        for text in command.texts:
            findings = describe(judge.judge_command(text, command.shell))
            if findings:
                if not allows_termination(command, text):
                    for f in findings:
                        if f["action"] == "terminate":
                            f["action"] = "alert"
                            f["reason"] += f" ({why_not(command)})"
                return findings
        return []

    commands: list[dict[str, Any]] = [
        {
            "command": c.text,
            "event": int(c.event_id),
            "how": c.how,
            "confidence": c.confidence,
            "shell": c.shell,
            **({"variants": list(c.variants)} if c.variants else {}),
            "findings": judged(c),
        }
        for c in extracted.commands
    ]
    cancelled = [{"command": c.text, "event": int(c.event_id), "how": c.how} for c in extracted.cancelled]
    output: list[dict[str, Any]] = [
        {"line": line.text, "event": int(line.event_id), "findings": describe(findings)}
        for line, findings in judge.judge_output_of(extracted)
    ]
    return {
        "session_id": transcript.session_id,
        "sources": transcript.sources,
        "policy_version": basis.loaded.version,
        "scope": settings.scope,
        "commands": commands,
        "cancelled": cancelled,
        "flags": list(extracted.flags),
        "output_findings": output,
        "findings": sum(len(c["findings"]) for c in commands) + sum(len(o["findings"]) for o in output),
    }


def _print_report(report: dict[str, Any], *, show_output: bool) -> None:
    sources = ", ".join(report["sources"])
    print(
        f"session {report['session_id']} ({sources}): {len(report['commands'])} commands, "
        f"{report['findings']} findings (scope {report['scope']}, policy {report['policy_version']})"
    )
    for flag in report.get("flags", []):
        print(f"  ! {flag}")
    for command in report["commands"]:
        text = command["command"].replace("\n", "\n    ")
        note = "" if command["confidence"] == "high" else f"   [{command['confidence']}: {command['how']}]"
        print(f"  $ {text}{note}")
        for f in command["findings"]:
            print(f"      {f['severity'].upper()} {f['rule']} -> {f['action']}: {f['reason']}")
    for command in report.get("cancelled", []):
        print(f"  x {command['command']}   [typed, not run: {command['how']}]")
    for line in report["output_findings"]:
        if show_output or line["findings"]:
            print(f"  [output] {line['line'][:160]}")
            for f in line["findings"]:
                print(f"      {f['severity'].upper()} {f['rule']} -> {f['action']}: {f['reason']}")


# -- reading ------------------------------------------------------------------------------------


def read_paths(paths: list[Path]) -> list[Transcript]:
    """Every session found in ``paths`` (files, or folders searched recursively), in order."""
    sessions: dict[str, Transcript] = {}
    for path in paths:
        if not path.exists():
            raise ValueError(f"{path}: no such file or folder")
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            for session_id, events, facts in read_file(file):
                transcript = sessions.setdefault(session_id, Transcript(session_id))
                if str(file) not in transcript.sources:
                    transcript.sources.append(str(file))
                transcript.events.extend(events)
                transcript.target_id = transcript.target_id or facts.get("target_id")
                transcript.principal_arn = transcript.principal_arn or facts.get("principal_arn")
    return list(sessions.values())


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".gz", ".log", ".txt", ".json", ".jsonl"):
        name = name.removesuffix(suffix)
    return name


def read_file(path: Path) -> list[Found]:
    """(session id, events' lines, facts) for each session in one file."""
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    text = raw.decode("utf-8", errors="replace")
    default_session = _stem(path)
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            whole = json.loads(stripped)
        except ValueError:
            whole = None
        if whole is not None:
            return _from_document(whole, default_session)
        first = stripped.split("\n", 1)[0]
        if _is_json_object(first):
            return _from_json_lines(text.splitlines(), default_session)
    lines = text.splitlines()
    if lines and all(_EXPORT_LINE.match(x) for x in lines[:5] if x.strip()):
        return _from_export_lines(lines, default_session)
    from ssm_warden.transcript.terminal import split_text

    return [(default_session, [split_text(text)], {})]


def _is_json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def _from_document(doc: Any, default_session: str) -> list[Found]:
    if isinstance(doc, dict) and "awslogs" in doc:
        from ssm_warden.logs.payload import decode_subscription

        try:
            batch, events = decode_subscription(doc)
        except MalformedEventError as exc:
            raise ValueError(str(exc)) from exc
        facts: dict[str, str | None] = {"target_id": None, "principal_arn": None}
        for e in events:
            facts["target_id"] = facts["target_id"] or e.target_id
            facts["principal_arn"] = facts["principal_arn"] or e.principal_arn
        return [(batch.log_stream or default_session, [e.lines for e in events], facts)]
    if isinstance(doc, dict):
        entries = doc.get("events") or doc.get("logEvents") or ([doc] if "sessionData" in doc else [])
        stream = doc.get("logStream")
        if stream and isinstance(entries, list):
            entries = [{**e, "logStreamName": stream} if isinstance(e, dict) else e for e in entries]
    else:
        entries = doc
    if not isinstance(entries, list):
        raise ValueError("a JSON document without events")
    return _group(entries, default_session)


def _from_json_lines(lines: list[str], default_session: str) -> list[Found]:
    entries = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            entries.append(json.loads(line))
        except ValueError as exc:
            raise ValueError(f"line {number} is not JSON: {exc}") from exc
    return _group(entries, default_session)


def _from_export_lines(lines: list[str], default_session: str) -> list[Found]:
    entries = []
    for line in lines:
        m = _EXPORT_LINE.match(line)
        entries.append({"message": m.group(2)} if m else {"message": line})
    return _group(entries, default_session)


def _group(entries: list[Any], default_session: str) -> list[Found]:
    """Log events (exported entries with ``message``, or streamed events themselves) by session."""
    from ssm_warden.logs.payload import decode_message, principal_of, target_of

    by_session: dict[str, tuple[list[list[str]], dict[str, str | None]]] = {}
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        if isinstance(entry.get("message"), str):
            try:
                lines, document = decode_message(entry["message"])
            except MalformedEventError:
                continue
        elif "sessionData" in entry:
            data = entry["sessionData"]
            lines, document = ([data] if isinstance(data, str) else list(data)), entry
        else:
            continue
        session = entry.get("logStreamName") or (document or {}).get("sessionId") or default_session
        events, facts = by_session.setdefault(str(session), ([], {"target_id": None, "principal_arn": None}))
        events.append([str(x) for x in lines])
        facts["target_id"] = facts["target_id"] or target_of(document)
        facts["principal_arn"] = facts["principal_arn"] or principal_of(document)
    return [(session, events, facts) for session, (events, facts) in by_session.items()]
