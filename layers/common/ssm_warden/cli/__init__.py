"""The ``ssm-warden`` command. Each subcommand is a module here exposing ``register(subparsers)``.

Subcommand modules are imported only when the command runs, never by the Lambda handlers.
Shared options, exit codes and the error type are in ``options``; AWS access in ``aws``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from ssm_warden.cli.options import EXIT_CODES_HELP, EXIT_USAGE, CliError
from ssm_warden.errors import WardenError

# Module names under ssm_warden.cli, in the order ``--help`` lists them.
SUBCOMMANDS = [
    "preflight",
    "sessions",
    "status",
    "replay",
    "audit",
    "policy",
    "slack",
    "redrive",
    "extend",
    "exempt",
    "redact",
    "scan",
    "classify",
    "rules",
    "sandbox",
    "version",
]


class _VersionAction(argparse.Action):
    """``--version``: the CLI's version, and the deployed stack's when credentials reach it."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the CLI's version (and the deployed one)")

    def __call__(self, parser: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        from ssm_warden.cli.version import print_versions

        print_versions(stack=os.environ.get("SSM_WARDEN_STACK"), region=None, profile=None, quiet=True)
        parser.exit(0)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ssm-warden",
        description="Governance for AWS Systems Manager Session Manager",
        epilog=EXIT_CODES_HELP,
    )
    parser.add_argument("--version", action=_VersionAction)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in SUBCOMMANDS:
        importlib.import_module(f"ssm_warden.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.run(args)
    except CliError as exc:
        return _fail(args.command, exc)
    except BrokenPipeError:
        # The reader went away (`ssm-warden rules list | head`): stop quietly, and keep Python from
        # complaining when it flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        return 130
    except WardenError as exc:  # an unknown rule pack, an invalid policy, bad configuration
        return _fail(args.command, CliError(str(exc)))
    except Exception as exc:
        from ssm_warden.cli.aws import describe_aws_error

        translated = describe_aws_error(exc)
        if translated is None:
            raise
        return _fail(args.command, translated)
    return code


def _fail(command: str, exc: CliError) -> int:
    print(f"ssm-warden {command}: {exc}", file=sys.stderr)
    return exc.code if exc.code else EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
