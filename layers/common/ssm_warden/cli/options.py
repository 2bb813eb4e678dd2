"""What every ``ssm-warden`` command shares: exit codes, the error it raises, and its common options.

Exit codes, the same for every command:

- 0: done, nothing to report;
- 1: a finding, or a check that failed (a verdict at or above ``--fail-on``, an invalid policy, a
  missing prerequisite, a message in a dead-letter queue);
- 2: the command could not do what was asked: bad arguments, a file or AWS resource that is not
  there, no credentials or region, access denied.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from typing import Any

EXIT_OK = 0
EXIT_FINDING = 1
EXIT_USAGE = 2

EXIT_CODES_HELP = (
    "exit codes: 0 fine; 1 a finding or a failed check; 2 bad usage or the command could not run "
    "(missing file or resource, no credentials, access denied)"
)

DEFAULT_STACK = "ssm-warden"


class CliError(Exception):
    """A failure the person running the command can fix; printed as one line, never a traceback."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


def plain(doc: str | None) -> str:
    """A module docstring as help text: reStructuredText's ``literal`` markup removed."""
    text = doc or ""
    text = re.sub(r"``([^`]+)``", r"\1", text)
    return re.sub(r"::\n", ":\n", text)


def add_format(parser: argparse.ArgumentParser, default: str = "text") -> None:
    """``--format text|json`` (``--json`` kept as a short form of ``--format json``)."""
    parser.add_argument(
        "--format",
        choices=["text", "json"],
        default=default,
        help=f"output format (default: {default}); json is one object per line",
    )
    parser.add_argument("--json", dest="format", action="store_const", const="json", help=argparse.SUPPRESS)


def add_aws_options(parser: argparse.ArgumentParser, *, stack: bool = True) -> None:
    """``--region``, ``--profile`` and (for commands that read a deployment) ``--stack``."""
    group = parser.add_argument_group("AWS")
    group.add_argument("--region", help="AWS region (default: the profile's, or $AWS_REGION)")
    group.add_argument("--profile", help="named profile from your AWS config (default: $AWS_PROFILE)")
    if stack:
        group.add_argument(
            "--stack",
            default=os.environ.get("SSM_WARDEN_STACK") or DEFAULT_STACK,
            help="the ssm-warden stack's name, whose outputs name its tables and queues "
            f"(default: $SSM_WARDEN_STACK or {DEFAULT_STACK})",
        )


def emit_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, default=str) + "\n")


def parse_tags(pairs: list[str]) -> dict[str, str]:
    """``KEY=VALUE`` pairs (from ``--tag``) as a dict; a malformed pair is a usage error."""
    tags = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CliError(f"--tag takes KEY=VALUE, got {pair!r}")
        tags[key] = value
    return tags


VERDICTS = ("allow", "alert", "terminate")
SEVERITIES = ("low", "medium", "high", "critical")


def add_fail_on(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--fail-on",
        metavar="SEVERITY|VERDICT",
        choices=[*SEVERITIES, *VERDICTS[1:]],
        help="exit 1 when a finding reaches this severity (low, medium, high, critical) or a command "
        "gets this verdict or a harder one (alert, terminate); without it findings exit 0",
    )


def reaches(threshold: str | None, *, verdict: str | None = None, severity: str | None = None) -> bool:
    """Whether a verdict or a severity reaches ``--fail-on`` (None: never)."""
    if threshold is None:
        return False
    if threshold in VERDICTS:
        return verdict is not None and VERDICTS.index(verdict) >= VERDICTS.index(threshold)
    return severity is not None and SEVERITIES.index(severity) >= SEVERITIES.index(threshold)
