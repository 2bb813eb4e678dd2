"""``ssm-warden classify [FILE]``: judge commands the way a session's commands would be judged.

Input is JSON Lines with a ``"command"`` field (or plain lines with ``--plain``) from FILE or
standard input; output is one JSON object per input line (``--format text``: verdict, severity and
command, one per line)::

    {"command": …, "verdict": "allow"|"alert"|"terminate", "severity": null|"low"|…,
     "findings": [{"rule", "severity", "category", "attack", "reason"}]}

Commands are judged under the default policy's strictest scope, or with ``--policy FILE`` and
``--tag KEY=VALUE`` under the scope a session on such a target would get. A command holding
newlines is judged as the snippet a person pasted (whole and line by line).

Exit 1 with ``--fail-on`` when a command reaches it, or when input lines could not be read;
exit 2 for a bad policy file or rule pack.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from typing import IO, Any, cast

from ssm_warden.cli.options import EXIT_FINDING, EXIT_OK, CliError, add_fail_on, add_format, plain, reaches
from ssm_warden.errors import PolicyError
from ssm_warden.shells import Shell


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "classify",
        help="judge commands (JSON Lines or plain lines) and print verdicts",
        description=plain(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", nargs="?", help="input file (default: standard input)")
    parser.add_argument("--plain", action="store_true", help="input is one command per line, not JSON")
    parser.add_argument("--policy", help="policy file (default: the bundled default policy)")
    parser.add_argument(
        "--shell",
        choices=("posix", "powershell", "cmd"),
        default="posix",
        help="the shell the commands were typed in (default: posix; a JSON line may say its own)",
    )
    parser.add_argument(
        "--tag",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a target tag: judge under the scope a session on such a target gets",
    )
    add_fail_on(parser)
    add_format(parser, default="json")
    parser.set_defaults(run=_run)


def _settings(args: argparse.Namespace) -> Any:
    from ssm_warden.cli.options import parse_tags as _parse_tags
    from ssm_warden.policy.evaluate import SessionFacts, effective_settings, strictest_settings
    from ssm_warden.policy.loader import default_policy, load_policy_file

    loaded = load_policy_file(args.policy) if args.policy else default_policy()
    if args.tag:
        return effective_settings(loaded.policy, SessionFacts(target_tags=_parse_tags(args.tag)))
    return strictest_settings(loaded.policy)


def _commands(stream: IO[str], plain: bool) -> Iterator[tuple[int, str | None, str | None]]:
    """(line number, command, error) for each non-blank input line (see _commands_with_shell)."""
    for number, command, _shell, error in _commands_with_shell(stream, plain):
        yield number, command, error


def _commands_with_shell(
    stream: IO[str], plain: bool
) -> Iterator[tuple[int, str | None, str | None, str | None]]:
    """(line number, command, shell named by the line, error) for each non-blank input line."""
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        if plain:
            yield number, line.rstrip("\r\n"), None, None
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, None, None, f"line {number}: not JSON ({exc.msg})"
            continue
        command = record.get("command") if isinstance(record, dict) else None
        if not isinstance(command, str):
            yield number, None, None, f'line {number}: no "command" string'
            continue
        shell = record.get("shell")
        yield number, command, shell if shell in ("posix", "powershell", "cmd") else None, None


def classify(commands: Iterable[str], settings: Any, shell: Shell = "posix") -> Iterator[dict[str, Any]]:
    """The output object for each command, judged with ``settings`` (EffectiveSettings)."""
    from ssm_warden.detect import verdict_for
    from ssm_warden.detect.detector import get_detector, max_severity
    from ssm_warden.monitor.judging import own_network_of

    detector = get_detector(tuple(settings.rule_packs), own_network_of(settings))
    for command in commands:
        findings = detector.judge_command(command, shell)
        severity = max_severity(findings)
        yield {
            "command": command,
            "verdict": verdict_for(findings, settings),
            "severity": severity.value if severity else None,
            "findings": [
                {
                    "rule": f.rule,
                    "severity": f.severity.value,
                    "category": f.category,
                    "attack": f.attack,
                    "reason": f.reason,
                }
                for f in findings
            ],
        }


def _run(args: argparse.Namespace) -> int:
    try:
        settings = _settings(args)
    except PolicyError as exc:
        print(exc, file=sys.stderr)
        return 2
    errors = 0
    failed = False
    try:
        stream: IO[str] = open(args.file, encoding="utf-8") if args.file else sys.stdin  # noqa: SIM115
    except OSError as exc:
        raise CliError(f"cannot read {args.file}: {exc.strerror}") from exc
    try:
        for _, command, shell, error in _commands_with_shell(stream, args.plain):
            if error is not None:
                errors += 1
                print(error, file=sys.stderr)
                continue
            assert command is not None
            for result in classify([command], settings, cast(Shell, shell or args.shell)):
                failed |= reaches(args.fail_on, verdict=result["verdict"], severity=result["severity"])
                if args.format == "text":
                    sys.stdout.write(f"{result['verdict']:<9} {result['severity'] or '-':<8} {command}\n")
                else:
                    sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    finally:
        if args.file:
            stream.close()
    return EXIT_FINDING if errors or failed else EXIT_OK
