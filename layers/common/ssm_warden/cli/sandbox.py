"""``ssm-warden sandbox``: a real shell watched live by ssm-warden on the local stack (no AWS account).

A development command: the work is done by ``ssm_warden_local.sandbox`` (devtools/), imported only
when the command runs, so the Lambda layer carries none of it.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "sandbox",
        help="a real shell whose output ssm-warden watches live (local stack, no AWS account)",
        description=(
            "Start the local stack (moto server, local Slack sink) and a shell in a pseudo-terminal. "
            "Its output is streamed as the SSM agent streams a session and goes through the real "
            "command monitor, executor and Slack notifier; alerts are printed here, and a "
            "termination ends the shell."
        ),
    )
    parser.add_argument("--policy", metavar="FILE", help="policy YAML (default: the bundled policy)")
    parser.add_argument(
        "--tag",
        action="append",
        metavar="KEY=VALUE",
        help="a tag of the session's target; repeatable (default: Environment=prod)",
    )
    parser.add_argument(
        "--monitor", action="store_true", help='monitor mode: say "would terminate", never terminate'
    )
    parser.add_argument(
        "--reason",
        default="ssm-warden sandbox",
        help="the session's --reason (empty: none, which a prod scope alerts on)",
    )
    parser.add_argument("--shell", help="the shell command line (default: /bin/bash --norc -i, else sh -i)")
    parser.add_argument(
        "--verbose", action="store_true", help="also print every event, log batch and API call"
    )
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    try:
        from ssm_warden_local.sandbox import main
    except ImportError as exc:
        print(
            f"ssm-warden sandbox is a development command ({exc}): run it from a checkout after "
            "`make venv`, e.g. `.venv/bin/ssm-warden sandbox`",
            file=sys.stderr,
        )
        return 2
    return main(args)
