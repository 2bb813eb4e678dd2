"""``ssm-warden redact``: text on stdin, the same text with its secrets masked on stdout.

The redaction is the one applied to session text before it is sent to Slack. ``--sanitize`` also
escapes Slack markup (``&``, ``<``, ``>``) and shows invisible characters, as alerts do.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(sub: Any) -> None:
    parser = sub.add_parser("redact", help="mask secrets in text read on stdin (as Slack alerts do)")
    parser.add_argument(
        "--sanitize", action="store_true", help="also escape Slack markup and show invisible characters"
    )
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from ssm_warden.slack.redact import redact, sanitize

    text = sys.stdin.read()
    sys.stdout.write(sanitize(text) if args.sanitize else redact(text))
    sys.stdout.flush()
    return 0
