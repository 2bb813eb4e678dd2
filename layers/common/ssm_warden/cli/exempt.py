"""``ssm-warden exempt --target|--principal|--rule ... --for 4h --reason TEXT``: add an expiring
exemption to the deployed policy (its SSM parameter), validated before it is written, and recorded in
the audit trail with your identity. For a known long silent job or a noisy rule while Slack is down;
the lasting fix belongs in your policy file (``ssm-warden policy pull`` shows the result; comments in
the parameter's copy are not kept).
"""

from __future__ import annotations

import argparse
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from ssm_warden.cli.options import EXIT_OK, CliError, add_aws_options, add_format, emit_json, plain

MAX_EXEMPTION = timedelta(days=30)
_DURATION = re.compile(r"^(\d+)([mhd])$")


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "exempt", help="add an expiring, audited exemption to the deployed policy", description=plain(__doc__)
    )
    parser.add_argument("--target", help="target id glob, e.g. i-0123456789abcdef0")
    parser.add_argument("--principal", help="principal ARN glob")
    parser.add_argument("--rule", help="rule id glob, or a limit: idle_minutes, max_minutes")
    parser.add_argument(
        "--for",
        dest="duration",
        required=True,
        metavar="DURATION",
        help="how long: 30m, 4h, 2d (at most 30d)",
    )
    parser.add_argument("--reason", required=True, help="why (kept in the policy and the audit trail)")
    parser.add_argument("--parameter", help="SSM parameter name (default: the stack's PolicyParameterName)")
    add_aws_options(parser)
    add_format(parser)
    parser.set_defaults(run=_run)


def parse_duration(text: str) -> timedelta:
    match = _DURATION.match(text.strip())
    if not match:
        raise CliError(f"--for takes 30m, 4h or 2d, got {text!r}")
    amount, unit = int(match.group(1)), match.group(2)
    span = {"m": timedelta(minutes=amount), "h": timedelta(hours=amount), "d": timedelta(days=amount)}[unit]
    if not timedelta(0) < span <= MAX_EXEMPTION:
        raise CliError("--for must be more than 0 and at most 30d")
    return span


def _run(args: argparse.Namespace) -> int:
    import yaml

    from ssm_warden.audit import write_audit
    from ssm_warden.cli.aws import AwsContext
    from ssm_warden.cli.operator import caller_arn, domain, operator_record
    from ssm_warden.cli.policy_remote import parameter_name, read_parameter, write_parameter
    from ssm_warden.clock import iso
    from ssm_warden.policy.loader import policy_version

    if not (args.target or args.principal or args.rule):
        raise CliError("name at least one of --target, --principal, --rule")
    expires = datetime.now(UTC) + parse_duration(args.duration)
    ctx = AwsContext.from_args(args)
    name = parameter_name(ctx, args.parameter)
    text = read_parameter(ctx, name)
    if text is None:
        raise CliError(f"no parameter {name} in {ctx.region}")
    actor = caller_arn(ctx)
    document = yaml.safe_load(text) or {}
    exemption = {
        k: v for k, v in {"target": args.target, "principal": args.principal, "rule": args.rule}.items() if v
    }
    exemption.update({"expires": iso(expires), "reason": f"{args.reason} (by {actor} via ssm-warden exempt)"})
    document.setdefault("exemptions", []).append(exemption)
    new_text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    version = write_parameter(ctx, name, new_text)  # validated first: an invalid result is never written
    with domain(ctx):
        write_audit(
            operator_record(
                session_id="-",
                actor=actor,
                action="exempt",
                outcome=f"exemption added to {name} until {iso(expires)}",
                details={
                    **{k: str(v) for k, v in exemption.items()},
                    "policy_before": policy_version(text),
                    "policy_after": version,
                },
            )
        )
    if args.format == "json":
        emit_json({"parameter": name, "exemption": exemption, "policy_version": version})
    else:
        print(f"{name}: exemption added until {iso(expires)} (policy {version}; audited)")
    return EXIT_OK
