"""``ssm-warden extend SESSION_ID MINUTES --reason TEXT``: extend a session's idle and duration limits,
as the Slack Extend button does, when Slack is down. Recorded in the ledger and the audit trail with
your identity and reason.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from typing import Any

from ssm_warden.cli.options import EXIT_OK, CliError, add_aws_options, add_format, emit_json, plain

MAX_EXTENSION_MINUTES = 24 * 60


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "extend",
        help="extend a session's limits (audited; the Slack button's fallback)",
        description=plain(__doc__),
    )
    parser.add_argument("session_id")
    parser.add_argument("minutes", type=int)
    parser.add_argument("--reason", required=True, help="why (kept in the audit trail)")
    add_aws_options(parser)
    add_format(parser)
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from ssm_warden.audit import write_audit
    from ssm_warden.cli.aws import AwsContext
    from ssm_warden.cli.deployment import read_session, sessions_table
    from ssm_warden.cli.operator import caller_arn, domain, operator_record
    from ssm_warden.clock import iso
    from ssm_warden.ledger.repository import SessionRepository
    from ssm_warden.models.session import SessionState

    if not 1 <= args.minutes <= MAX_EXTENSION_MINUTES:
        raise CliError(f"MINUTES must be between 1 and {MAX_EXTENSION_MINUTES}")
    if len(args.reason.strip()) < 3:
        raise CliError("--reason needs a few words")
    ctx = AwsContext.from_args(args)
    record = read_session(ctx, sessions_table(ctx), args.session_id)
    if record is None:
        raise CliError(f"no session {args.session_id} in the ledger", code=1)
    if record.state is not SessionState.ACTIVE:
        raise CliError(f"session {args.session_id} is {record.state or 'unknown'}: nothing to extend", code=1)
    actor = caller_arn(ctx)
    until = datetime.now(UTC) + timedelta(minutes=args.minutes)
    extension = {"until": iso(until), "by": f"cli:{actor}", "reason": args.reason}
    with domain(ctx):
        SessionRepository().add_extension(record.account, record.region, record.session_id, extension)
        outcome = f"limits extended until {iso(until)}"
        write_audit(
            operator_record(
                session_id=record.session_id,
                actor=actor,
                action="extend",
                outcome=outcome,
                account=record.account,
                region=record.region,
                details={"minutes": args.minutes, "reason": args.reason},
            )
        )
    if args.format == "json":
        emit_json({"session_id": record.session_id, "until": iso(until), "by": actor})
    else:
        print(f"{record.session_id}: {outcome} (by {actor}, audited)")
    return EXIT_OK
