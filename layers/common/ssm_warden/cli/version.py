"""``ssm-warden version``: this CLI's version and the deployed stack's (its ``Version`` output).

``ssm-warden --version`` prints the same, the deployed part only when credentials reach the stack.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ssm_warden import __version__
from ssm_warden.cli.options import DEFAULT_STACK, EXIT_OK, add_aws_options, add_format, emit_json

OUTPUT_VERSION = "Version"


def register(sub: Any) -> None:
    parser = sub.add_parser("version", help="print the CLI's version and the deployed stack's")
    add_aws_options(parser)
    add_format(parser)
    parser.set_defaults(run=_run)


def deployed_version(stack: str, region: str | None, profile: str | None) -> tuple[str | None, str | None]:
    """(version, None), or (None, why it is unknown). Never raises."""
    from ssm_warden.cli.aws import AwsContext, describe_aws_error
    from ssm_warden.cli.options import CliError

    try:
        ctx = AwsContext(region, profile, stack)
        if ctx.session.get_credentials() is None:
            return None, "no AWS credentials"
        return ctx.stack_outputs().get(OUTPUT_VERSION) or None, None
    except CliError as exc:
        return None, str(exc)
    except Exception as exc:
        translated = describe_aws_error(exc)
        if translated is None:
            return None, f"{type(exc).__name__}: {exc}"
        return None, str(translated)


def print_versions(
    *, stack: str | None, region: str | None, profile: str | None, quiet: bool, fmt: str = "text"
) -> None:
    stack = stack or DEFAULT_STACK
    deployed, why = deployed_version(stack, region, profile)
    if fmt == "json":
        emit_json({"cli": __version__, "stack": stack, "deployed": deployed, "deployed_unknown": why})
        return
    print(f"ssm-warden {__version__}")
    if deployed:
        print(f"deployed {deployed} (stack {stack})")
    elif not quiet:
        print(f"deployed: unknown ({why or 'the stack has no Version output'})", file=sys.stderr)


def _run(args: argparse.Namespace) -> int:
    print_versions(stack=args.stack, region=args.region, profile=args.profile, quiet=False, fmt=args.format)
    return EXIT_OK
