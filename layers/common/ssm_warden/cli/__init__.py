"""The ``ssm-warden`` command. Each subcommand is a module here exposing ``register(subparsers)``.

Subcommand modules are imported only when the command runs, never by the Lambda handlers.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Module names under ssm_warden.cli, in the order ``--help`` lists them.
SUBCOMMANDS = [
    "policy",
    "audit",
    "redact",
    "scan",
    "classify",
    "rules",
    "sandbox",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ssm-warden", description="Governance for AWS Systems Manager Session Manager"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in SUBCOMMANDS:
        importlib.import_module(f"ssm_warden.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
