"""``ssm-warden policy check|explain|schema``: validate a policy and see what a session would get.

``pull``, ``diff`` and ``push`` (the deployed policy) are in ``policy_remote``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ssm_warden.cli.options import EXIT_USAGE
from ssm_warden.cli.options import parse_tags as _parse_tags
from ssm_warden.errors import PolicyError


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "policy", help="check, explain, diff, push or pull a policy; print its JSON Schema"
    )
    actions = parser.add_subparsers(dest="policy_command", required=True, metavar="ACTION")

    check = actions.add_parser(
        "check",
        help="validate a policy file: exit 1 with the errors if invalid; weakening choices are warned about",
    )
    check.add_argument("file")
    check.add_argument(
        "--strict", action="store_true", help="exit 2 when there are warnings (for CI gates on prod policies)"
    )
    check.set_defaults(run=_check)

    explain = actions.add_parser("explain", help="print the settings a session would get")
    explain.add_argument("file")
    explain.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE", help="a target tag")
    explain.add_argument("--principal", help="principal ARN")
    explain.add_argument("--role", help="IAM role ARN or name")
    explain.add_argument("--document", help="session document name")
    explain.add_argument("--target", help="target id, e.g. i-0123456789abcdef0")
    explain.add_argument("--account", help="AWS account id")
    explain.set_defaults(run=_explain)

    schema = actions.add_parser("schema", help="print the policy JSON Schema")
    schema.set_defaults(run=_schema)

    # pull / diff / push of the deployed policy (its SSM parameter): ssm_warden.cli.policy_remote.
    from ssm_warden.cli import policy_remote

    policy_remote.register(actions)


def _check(args: argparse.Namespace) -> int:
    from ssm_warden.policy.loader import load_policy_file

    try:
        loaded = load_policy_file(args.file)
    except PolicyError as exc:
        print(exc, file=sys.stderr)
        return 1
    policy = loaded.policy
    for warning in loaded.warnings:
        print(f"WARNING {warning}", file=sys.stderr)
    print(
        f"{args.file}: valid (version {loaded.version}; {len(policy.scopes)} scopes, "
        f"{len(policy.exemptions)} exemptions, {len(loaded.warnings)} warnings)"
    )
    return 2 if args.strict and loaded.warnings else 0


def _explain(args: argparse.Namespace) -> int:
    from ssm_warden.policy.evaluate import SessionFacts, effective_settings
    from ssm_warden.policy.loader import load_policy_file

    try:
        loaded = load_policy_file(args.file)
    except PolicyError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    role = args.role
    if role and not role.startswith("arn:"):
        role = f"arn:aws:iam::{args.account or '*'}:role/{role}"
    facts = SessionFacts(
        target_tags=_parse_tags(args.tag),
        target_id=args.target,
        account=args.account,
        principal_arn=args.principal,
        role_arn=role,
        document_name=args.document or "SSM-SessionManagerRunShell",
    )
    settings = effective_settings(loaded.policy, facts)
    out = {
        "policy_version": loaded.version,
        "session": facts.model_dump(mode="json", exclude_none=True),
        "document_allowed": settings.allows_document(facts.document_name or ""),
        "effective": settings.model_dump(mode="json"),
    }
    json.dump(out, sys.stdout, indent=2)
    print()
    return 0


def _schema(args: argparse.Namespace) -> int:
    from ssm_warden.policy.model import policy_json_schema

    json.dump(policy_json_schema(), sys.stdout, indent=2, sort_keys=True)
    print()
    return 0
