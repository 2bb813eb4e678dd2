"""``ssm-warden audit SESSION_ID``: print a session's audit trail (from the configured table)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any


def register(sub: Any) -> None:
    parser = sub.add_parser("audit", help="print every decision recorded for a session")
    parser.add_argument("session_id")
    parser.add_argument(
        "--table", help="audit table name (default: $AUDIT_TABLE, the stack output AuditTableName)"
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per record")
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from ssm_warden.audit import read_audit
    from ssm_warden.config import reset_settings

    if args.table:
        os.environ["AUDIT_TABLE"] = args.table
        reset_settings()
    records = read_audit(args.session_id)
    if not records:
        print(f"no audit records for {args.session_id}", file=sys.stderr)
        return 1
    for record in records:
        if args.json:
            print(json.dumps(record.model_dump(mode="json")))
            continue
        what = record.rule_or_limit or "-"
        policy = record.policy_version or "-"
        print(
            f"{record.at:%Y-%m-%d %H:%M:%S}Z  {record.decision.value:<16} {what:<34} "
            f"{record.action or '-':<10} {record.outcome}  [{record.actor}; policy {policy}]"
        )
    return 0
