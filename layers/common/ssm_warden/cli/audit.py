"""``ssm-warden audit SESSION_ID``: every decision recorded for a session, oldest first.

The audit table is the stack's AuditTableName output (or --table, or $AUDIT_TABLE).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from ssm_warden.cli.options import EXIT_FINDING, EXIT_OK, add_aws_options, add_format, emit_json, plain


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "audit", help="print every decision recorded for a session", description=plain(__doc__)
    )
    parser.add_argument("session_id")
    parser.add_argument(
        "--table", help="audit table name (default: $AUDIT_TABLE, else the stack's AuditTableName)"
    )
    add_aws_options(parser)
    add_format(parser)
    parser.set_defaults(run=_run)


def read_records(ctx: Any, table: str, session_id: str) -> list[Any]:
    """The session's audit records (every page), oldest first."""
    from ssm_warden.cli.options import CliError
    from ssm_warden.models.audit import AuditRecord

    client = ctx.client("dynamodb")
    records: list[AuditRecord] = []
    try:
        for page in client.get_paginator("query").paginate(
            TableName=table,
            KeyConditionExpression="session_id = :s",
            ExpressionAttributeValues={":s": {"S": session_id}},
        ):
            records.extend(AuditRecord.model_validate(json.loads(i["record"]["S"])) for i in page["Items"])
    except client.exceptions.ResourceNotFoundException as exc:
        raise CliError(
            f"no audit table {table!r} in {ctx.region}: check --region, --stack or --table"
        ) from exc
    return records


def audit_table(ctx: Any, explicit: str | None) -> str:
    from ssm_warden.cli.aws import OUTPUT_AUDIT_TABLE

    table: str = ctx.stack_output(OUTPUT_AUDIT_TABLE, explicit=explicit, env="AUDIT_TABLE")
    return table


def describe(record: Any) -> str:
    """One line: when, decision, rule or limit, action, outcome, who, policy; then why and the command."""
    what = record.rule_or_limit or "-"
    line = (
        f"{record.at:%Y-%m-%d %H:%M:%S}Z  {record.decision.value:<16} {what:<34} "
        f"{record.action or '-':<10} {record.outcome}  "
        f"[{record.actor}; policy {record.policy_version or '-'}]"
    )
    details = record.details or {}
    why = details.get("why") or details.get("reason")
    if why:
        line += f"\n    why: {why}"
    command = details.get("command")
    if command:
        line += f"\n    command: {command}"
    return line


def _run(args: argparse.Namespace) -> int:
    import sys

    from ssm_warden.cli.aws import AwsContext

    ctx = AwsContext.from_args(args)
    records = read_records(ctx, audit_table(ctx, args.table), args.session_id)
    if not records:
        print(f"no audit records for {args.session_id}", file=sys.stderr)
        return EXIT_FINDING
    for record in records:
        if args.format == "json":
            emit_json(record.model_dump(mode="json"))
        else:
            print(describe(record))
    return EXIT_OK
