"""``ssm-warden policy pull|diff|push``: the deployed policy in its SSM parameter.

The parameter is the stack's PolicyParameterName (or --parameter). ``push`` validates the file
first and never writes an invalid policy; the functions pick the new one up within a minute. A
policy over 4 KB needs the Advanced tier (chosen automatically; it is billed per parameter-month).
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path
from typing import Any

from ssm_warden.cli.options import EXIT_FINDING, EXIT_OK, CliError, add_aws_options, plain

STANDARD_TIER_BYTES = 4096


def register(actions: Any) -> None:
    """Add pull, diff and push to ``ssm-warden policy``'s actions."""
    pull = actions.add_parser(
        "pull", help="print (or --output) the deployed policy", description=plain(__doc__)
    )
    pull.add_argument("--output", "-o", help="write it here instead of standard output")
    _common(pull)
    pull.set_defaults(run=_pull)

    diff = actions.add_parser(
        "diff", help="compare a policy file with the deployed one (exit 1 if they differ)"
    )
    diff.add_argument("file")
    _common(diff)
    diff.set_defaults(run=_diff)

    push = actions.add_parser("push", help="validate a policy file and write it to the SSM parameter")
    push.add_argument("file")
    push.add_argument("--tier", choices=["Standard", "Advanced"], help="parameter tier (default: by size)")
    _common(push)
    push.set_defaults(run=_push)

    from ssm_warden.cli import policy_simulate

    policy_simulate.register(actions)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--parameter", help="SSM parameter name (default: the stack's PolicyParameterName)")
    add_aws_options(parser)


def parameter_name(ctx: Any, explicit: str | None) -> str:
    if explicit:
        return explicit
    name = ctx.stack_parameters().get("PolicyParameterName")
    if not name:
        raise CliError(
            f"stack {ctx.stack!r} uses the policy bundled in its layer (PolicyParameterName is empty): "
            "`ssm-warden policy push FILE --parameter NAME`, then redeploy with PolicyParameterName=NAME"
        )
    return str(name)


def read_parameter(ctx: Any, name: str) -> str | None:
    ssm = ctx.client("ssm")
    try:
        value: str = ssm.get_parameter(Name=name)["Parameter"]["Value"]
    except ssm.exceptions.ParameterNotFound:
        return None
    return value


def write_parameter(ctx: Any, name: str, text: str, tier: str | None = None) -> str:
    """Validate ``text`` as a policy and write it; returns its version. Raises PolicyError if invalid."""
    from ssm_warden.policy.loader import load_policy_text

    loaded = load_policy_text(text, source=name)
    chosen = tier or ("Advanced" if len(text.encode()) > STANDARD_TIER_BYTES else "Standard")
    ctx.client("ssm").put_parameter(
        Name=name,
        Value=text,
        Type="String",
        Overwrite=True,
        Tier=chosen,
        Description=f"ssm-warden policy {loaded.version}",
    )
    return str(loaded.version)


def _read_file(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from exc


def _pull(args: argparse.Namespace) -> int:
    from ssm_warden.cli.aws import AwsContext

    ctx = AwsContext.from_args(args)
    name = parameter_name(ctx, args.parameter)
    text = read_parameter(ctx, name)
    if text is None:
        raise CliError(f"no parameter {name} in {ctx.region}")
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return EXIT_OK


def _diff(args: argparse.Namespace) -> int:
    from ssm_warden.cli.aws import AwsContext
    from ssm_warden.policy.loader import load_policy_text

    ctx = AwsContext.from_args(args)
    name = parameter_name(ctx, args.parameter)
    local = _read_file(args.file)
    load_policy_text(local, source=args.file)  # an invalid file is an error (exit 2), not a difference
    deployed = read_parameter(ctx, name)
    if deployed is None:
        print(f"{name} does not exist in {ctx.region}: `ssm-warden policy push {args.file}` creates it")
        return EXIT_FINDING
    lines = list(
        difflib.unified_diff(
            deployed.splitlines(keepends=True), local.splitlines(keepends=True), f"ssm:{name}", args.file
        )
    )
    if not lines:
        print(f"{args.file} is what {name} holds")
        return EXIT_OK
    sys.stdout.writelines(line if line.endswith("\n") else line + "\n" for line in lines)
    return EXIT_FINDING


def _push(args: argparse.Namespace) -> int:
    from ssm_warden.cli.aws import AwsContext
    from ssm_warden.policy.loader import policy_version

    ctx = AwsContext.from_args(args)
    name = parameter_name(ctx, args.parameter)
    text = _read_file(args.file)
    before = read_parameter(ctx, name)
    version = write_parameter(ctx, name, text, args.tier)
    previous = policy_version(before) if before is not None else "none"
    print(f"{name}: {previous} -> {version}; the functions apply it within a minute")
    return EXIT_OK
