"""``ssm-warden replay SESSION_ID``: why was this session alerted on or ended? Its log stream (every
page) or its S3 transcript (``--s3 s3://bucket/prefix``), the commands rebuilt from it as the command
watch rebuilds them, what the detector says of each, and the audit decisions, in time order.
``--html FILE`` writes the same as a timeline page. Exit 1 when nothing is found for the session.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
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

DEFAULT_LOG_GROUP = "/aws/ssm/sessions"


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "replay",
        help="a session's commands, findings and decisions in time order",
        description=plain(__doc__),
    )
    parser.add_argument("session_id")
    parser.add_argument("--log-group", help="session-log group (default: the stack's SessionLogGroupName)")
    parser.add_argument(
        "--s3", metavar="s3://BUCKET/PREFIX", help="read <PREFIX>/<SESSION_ID>.log from S3 instead"
    )
    parser.add_argument("--html", metavar="FILE", help="also write a timeline page here")
    parser.add_argument(
        "--policy", metavar="FILE", help="judge under this policy (default: the deployed one)"
    )
    add_aws_options(parser)
    add_format(parser)
    parser.set_defaults(run=_run)


def read_stream(ctx: Any, group: str, session_id: str, page_size: int | None = None) -> list[Any]:
    """Every event of the session's log stream (the stream is named after the session), all pages."""
    from ssm_warden.cli.timeline import LogEvent
    from ssm_warden.errors import MalformedEventError
    from ssm_warden.logs.payload import decode_message

    logs = ctx.client("logs")
    events: list[LogEvent] = []
    kwargs: dict[str, Any] = {"logGroupName": group, "logStreamName": session_id, "startFromHead": True}
    if page_size:
        kwargs["limit"] = page_size
    try:
        while True:
            page = logs.get_log_events(**kwargs)
            for n, event in enumerate(page.get("events", [])):
                try:
                    lines, _ = decode_message(event["message"])
                except MalformedEventError:
                    continue  # a broken event is skipped, as the command monitor skips it
                at = datetime.fromtimestamp(event["timestamp"] / 1000, UTC)
                events.append(
                    LogEvent(f"{event['timestamp']}-{len(events)}-{n}", at, [str(x) for x in lines])
                )
            token = page.get("nextForwardToken")
            if not token or token == kwargs.get("nextToken"):
                return events
            kwargs["nextToken"] = token
    except logs.exceptions.ResourceNotFoundException:
        return []


def read_s3(ctx: Any, url: str, session_id: str) -> list[Any]:
    from ssm_warden.cli.timeline import LogEvent
    from ssm_warden.transcript.terminal import split_text

    if not url.startswith("s3://"):
        raise CliError(f"--s3 takes s3://BUCKET/PREFIX, got {url!r}")
    bucket, _, prefix = url[5:].partition("/")
    key = f"{prefix.rstrip('/')}/{session_id}.log" if prefix.strip("/") else f"{session_id}.log"
    s3 = ctx.client("s3")
    try:
        obj = s3.get_object(Bucket=bucket, Key=key)
    except s3.exceptions.NoSuchKey:
        return []
    text = obj["Body"].read().decode("utf-8", errors="replace")
    return [LogEvent("s3", obj["LastModified"], split_text(text))]


def _optional(read: Any) -> Any:
    """A read that needs the deployed stack, or None when there is none to read from."""
    try:
        return read()
    except CliError:
        return None


def _run(args: argparse.Namespace) -> int:
    from ssm_warden.cli.audit import audit_table, read_records
    from ssm_warden.cli.aws import AwsContext
    from ssm_warden.cli.deployment import policy_in_force, read_session, sessions_table
    from ssm_warden.cli.timeline import build, render_html, render_text
    from ssm_warden.detect.detector import get_detector
    from ssm_warden.monitor.judging import own_network_of
    from ssm_warden.monitor.service import role_arn_of
    from ssm_warden.policy.evaluate import SessionFacts, effective_settings

    ctx = AwsContext.from_args(args)
    record = _optional(lambda: read_session(ctx, sessions_table(ctx), args.session_id))
    if args.s3:
        source = f"{args.s3.rstrip('/')}/{args.session_id}.log"
        events = read_s3(ctx, args.s3, args.session_id)
    else:
        group = (
            args.log_group
            or _optional(lambda: ctx.stack_outputs().get("SessionLogGroupName"))
            or DEFAULT_LOG_GROUP
        )
        source = f"{group}:{args.session_id}"
        events = read_stream(ctx, group, args.session_id)
    records = _optional(lambda: read_records(ctx, audit_table(ctx, None), args.session_id)) or []
    if not events and not records and record is None:
        print(f"nothing found for {args.session_id} (no log stream at {source}, no audit records)")
        return EXIT_FINDING
    policy = policy_in_force(ctx, args.policy)
    principal = record.principal.arn if record and record.principal else None
    settings = effective_settings(
        policy.loaded.policy,
        SessionFacts(
            target_tags=record.target_tags if record else {},
            target_id=record.target_id if record else None,
            principal_arn=principal,
            role_arn=role_arn_of(principal),
            document_name=(record.document_name if record else None) or "SSM-SessionManagerRunShell",
        ),
    )
    entries = build(events, records, get_detector(tuple(settings.rule_packs), own_network_of(settings)))
    session = {
        "session_id": args.session_id,
        "principal": principal,
        "target": record.target_id if record else None,
        "state": record.state.value if record and record.state else None,
        "source": source,
        "events": len(events),
        "policy_version": policy.loaded.version,
    }
    if args.html:
        Path(args.html).write_text(render_html(session, entries), encoding="utf-8")
    if args.format == "json":
        emit_json({**session, "timeline": [e.as_dict() for e in entries]})
    else:
        print(render_text(session, entries), end="")
        if args.html:
            print(f"timeline page: {args.html}")
    return EXIT_OK
