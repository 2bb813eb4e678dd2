"""``ssm-warden sessions``: who is on which box now, from the session ledger.

One line per active session: principal, target and its tags, document, reason, age, time since the
last output (idle), commands and findings so far, and the idle and maximum-duration limits the
policy puts on it (with extensions).
"""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from ssm_warden.cli.options import EXIT_OK, add_aws_options, add_format, emit_json, plain


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "sessions", help="who is on which box now (active sessions)", description=plain(__doc__)
    )
    parser.add_argument(
        "--table", help="sessions table (default: $SESSIONS_TABLE, else the stack's SessionsTableName)"
    )
    parser.add_argument(
        "--policy", metavar="FILE", help="judge limits under this policy (default: the deployed one)"
    )
    add_aws_options(parser)
    add_format(parser)
    parser.set_defaults(run=_run)


def _minutes(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes = int(seconds // 60)
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"


def describe(record: Any, policy: Any, now: datetime) -> dict[str, Any]:
    """A JSON-ready view of one active session and the limits in force for it."""
    from ssm_warden.monitor.service import role_arn_of
    from ssm_warden.policy.evaluate import SessionFacts, effective_settings

    principal = record.principal.arn if record.principal else None
    settings = effective_settings(
        policy,
        SessionFacts(
            target_tags=record.target_tags,
            target_id=record.target_id,
            account=record.account,
            principal_arn=principal,
            role_arn=role_arn_of(principal),
            document_name=record.document_name,
        ),
    )
    since = record.last_resumed_at or record.started_at
    last_output = record.last_output_at or since
    extended_until = max((str(e.get("until")) for e in record.extensions if e.get("until")), default=None)
    return {
        "session_id": record.session_id,
        "account": record.account,
        "region": record.region,
        "principal": principal,
        "target": record.target_id,
        "target_tags": record.target_tags,
        "document": record.document_name,
        "reason": record.reason,
        "started_at": record.started_at.isoformat() if record.started_at else None,
        "age_seconds": (now - record.started_at).total_seconds() if record.started_at else None,
        "idle_seconds": (now - last_output).total_seconds() if last_output else None,
        "commands": record.commands_seen,
        "findings": record.findings_seen,
        "discovered": record.discovered,
        "scope": settings.scope,
        "idle_limit_minutes": settings.idle_minutes,
        "max_limit_minutes": settings.max_minutes,
        "extended_until": extended_until,
    }


def _print(rows: list[dict[str, Any]], source: str) -> None:
    print(f"{len(rows)} active session(s); limits from policy {source}")
    for r in rows:
        tags = ",".join(f"{k}={v}" for k, v in sorted(r["target_tags"].items())) or "no tags"
        limits = f"idle {r['idle_limit_minutes'] or '-'}m, max {r['max_limit_minutes'] or '-'}m"
        if r["extended_until"]:
            limits += f", extended until {r['extended_until']}"
        print(
            f"{r['session_id']}  {r['principal'] or '?'} -> {r['target'] or '?'} ({tags})\n"
            f"    {r['document'] or '-'}; reason: {r['reason'] or '(none)'}; "
            f"age {_minutes(r['age_seconds'])}, idle {_minutes(r['idle_seconds'])}; "
            f"{r['commands']} commands, {r['findings']} findings; "
            f"scope {r['scope']}: {limits}" + ("; found by reconciliation" if r["discovered"] else "")
        )


def _run(args: argparse.Namespace) -> int:
    from ssm_warden.cli.aws import AwsContext
    from ssm_warden.cli.deployment import policy_in_force, read_active_sessions, sessions_table

    ctx = AwsContext.from_args(args)
    records = read_active_sessions(ctx, sessions_table(ctx, args.table))
    policy = policy_in_force(ctx, args.policy)
    from ssm_warden.clock import utc_now

    now = utc_now()
    rows = [describe(r, policy.loaded.policy, now) for r in records]
    if args.format == "json":
        for row in rows:
            emit_json(row)
    else:
        _print(rows, f"{policy.source} ({policy.loaded.version})")
    return EXIT_OK
