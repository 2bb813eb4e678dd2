"""``ssm-warden policy simulate FILE --since 7d``: re-judge recent sessions under a candidate policy
and print what would change: terminations, alerts, exemptions used, limits, start checks. The
sessions come from the ledger, their commands from their log streams (rebuilt as the command watch
rebuilds them). Compared with the deployed policy, or with ``--against FILE``. Exit 1 when anything
would change.
"""

from __future__ import annotations

import argparse
import re
from datetime import timedelta
from typing import Any

from ssm_warden.cli.options import (
    EXIT_FINDING,
    EXIT_OK,
    CliError,
    add_aws_options,
    add_format,
    emit_json,
    plain,
)
from ssm_warden.shells import Shell

_SINCE = re.compile(r"^(\d+)([hd])$")


def register(actions: Any) -> None:
    parser = actions.add_parser(
        "simulate",
        help="what a candidate policy would change for recent sessions",
        description=plain(__doc__),
    )
    parser.add_argument("file")
    parser.add_argument("--since", default="7d", help="how far back: 12h, 7d (default 7d, at most 30d)")
    parser.add_argument(
        "--against", metavar="FILE", help="compare with this policy (default: the deployed one)"
    )
    parser.add_argument("--log-group", help="session-log group (default: the stack's SessionLogGroupName)")
    parser.add_argument(
        "--max-sessions", type=int, default=500, help="at most this many sessions (newest first)"
    )
    add_aws_options(parser)
    add_format(parser)
    parser.set_defaults(run=_run)


def _since(text: str) -> timedelta:
    match = _SINCE.match(text.strip())
    if not match:
        raise CliError(f"--since takes 12h or 7d, got {text!r}")
    amount = int(match.group(1))
    span = timedelta(hours=amount) if match.group(2) == "h" else timedelta(days=amount)
    if not timedelta(0) < span <= timedelta(days=30):
        raise CliError("--since must be more than 0 and at most 30d")
    return span


def recent_sessions(ctx: Any, table: str, since: str) -> list[Any]:
    from ssm_warden.ledger.dynamo import from_item
    from ssm_warden.models.session import SessionRecord

    client = ctx.client("dynamodb")
    records: list[SessionRecord] = []
    for page in client.get_paginator("scan").paginate(
        TableName=table,
        FilterExpression="record_type = :t AND started_at >= :since",
        ExpressionAttributeValues={":t": {"S": "session"}, ":since": {"S": since}},
    ):
        records.extend(SessionRecord.model_validate(from_item(i)) for i in page["Items"])
    return sorted(records, key=lambda r: r.started_at.isoformat() if r.started_at else "", reverse=True)


def _commands(events: list[Any]) -> list[tuple[str, Shell]]:
    from ssm_warden.transcript.extract import Extractor

    extractor = Extractor()
    for event in events:
        extractor.feed(event.event_id, event.lines)
    extractor.flush()
    return [(c.text, c.shell) for c in extractor.result.commands]


def _run(args: argparse.Namespace) -> int:
    from ssm_warden.cli.aws import AwsContext
    from ssm_warden.cli.deployment import policy_in_force, sessions_table
    from ssm_warden.cli.replay import DEFAULT_LOG_GROUP, read_stream
    from ssm_warden.cli.simulation import _facts, compare_session, summary
    from ssm_warden.clock import iso, utc_now
    from ssm_warden.detect.detector import get_detector
    from ssm_warden.monitor.judging import own_network_of
    from ssm_warden.policy.evaluate import effective_settings
    from ssm_warden.policy.loader import load_policy_file

    candidate = load_policy_file(args.file)
    ctx = AwsContext.from_args(args)
    current = policy_in_force(ctx, args.against)
    now = utc_now()
    since = now - _since(args.since)
    group = args.log_group or ctx.stack_outputs().get("SessionLogGroupName") or DEFAULT_LOG_GROUP
    records = recent_sessions(ctx, sessions_table(ctx), iso(since))[: args.max_sessions]
    changes = []
    for record in records:
        facts = _facts(record)
        before = effective_settings(current.loaded.policy, facts)
        after = effective_settings(candidate.policy, facts)
        detector_before = get_detector(tuple(before.rule_packs), own_network_of(before))
        detector_after = get_detector(tuple(after.rule_packs), own_network_of(after))
        commands = _commands(read_stream(ctx, group, record.session_id))
        judged = [
            (
                text,
                detector_before.judge_command(text, shell),
                detector_after.judge_command(text, shell),
            )
            for text, shell in commands
        ]
        changes.append(compare_session(record, judged, current.loaded.policy, candidate.policy, now))
    counts = summary(changes)
    if args.format == "json":
        for change in changes:
            if change.changes:
                emit_json(change.as_dict())
        emit_json(
            {
                "summary": counts,
                "since": iso(since),
                "current": current.loaded.version,
                "candidate": candidate.version,
            }
        )
    else:
        print(
            f"{counts['sessions']} session(s) since {iso(since)}: "
            f"{current.source} ({current.loaded.version}) "
            f"-> {args.file} ({candidate.version})"
        )
        for change in changes:
            if change.changes:
                print(f"{change.session_id}  {change.principal or '?'} -> {change.target or '?'}")
                for line in change.changes:
                    print(f"    {line}")
        print(
            f"{counts['changed']} session(s) would change: {counts['terminations']} more termination(s), "
            f"{counts['alerts']} to alert, {counts['exemptions']} exempted, "
            f"{counts['limits']} limit change(s)"
        )
    return EXIT_FINDING if counts["changed"] else EXIT_OK
