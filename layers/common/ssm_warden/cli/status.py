"""``ssm-warden status``: is ssm-warden healthy? The mode and the policy version in force, the
dead-letter queue depths, the stack's alarms in ALARM, when the sweeper last ran, and whether Slack
answers. Exit 1 when something needs attention.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
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

# The sweeper runs every minute; no log line for this long means it is not running.
SWEEP_STALE_SECONDS = 300


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "status",
        help="mode, policy, dead-letter queues, alarms, last sweep, Slack",
        description=plain(__doc__),
    )
    add_aws_options(parser)
    add_format(parser)
    parser.set_defaults(run=_run)


def _item(name: str, ok: bool, detail: str, **extra: Any) -> dict[str, Any]:
    return {"item": name, "ok": ok, "detail": detail, **extra}


def _policy(ctx: Any, parameters: dict[str, str]) -> list[dict[str, Any]]:
    from ssm_warden.cli.deployment import policy_in_force
    from ssm_warden.errors import PolicyError

    monitor = parameters.get("ForceMonitorMode", "true") == "true"
    mode = (
        "monitor (ForceMonitorMode=true: nothing is terminated)"
        if monitor
        else "enforce (per policy scope and rule)"
    )
    items = [_item("mode", True, mode, monitor=monitor)]
    try:
        policy = policy_in_force(ctx)
        items.append(
            _item(
                "policy",
                True,
                f"{policy.source}, version {policy.loaded.version}",
                version=policy.loaded.version,
            )
        )
    except (CliError, PolicyError) as exc:
        items.append(_item("policy", False, f"the deployed policy cannot be loaded: {exc}"))
    return items


def _queues(ctx: Any) -> list[dict[str, Any]]:
    from ssm_warden.cli.deployment import DEAD_LETTER_QUEUES, QUEUE_OUTPUTS

    outputs = ctx.stack_outputs()
    sqs = ctx.client("sqs")
    items = []
    for name in ("actions", *DEAD_LETTER_QUEUES):
        url = outputs.get(QUEUE_OUTPUTS[name])
        if not url:
            items.append(_item(f"queue {name}", False, f"the stack has no {QUEUE_OUTPUTS[name]} output"))
            continue
        attributes = sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        depth = int(attributes.get("ApproximateNumberOfMessages", 0))
        in_flight = int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0))
        dead = name in DEAD_LETTER_QUEUES
        ok = not dead or depth + in_flight == 0
        hint = f" (ssm-warden redrive {name})" if dead and not ok else ""
        items.append(_item(f"queue {name}", ok, f"{depth} waiting, {in_flight} in flight{hint}", depth=depth))
    return items


def _alarms(ctx: Any) -> dict[str, Any]:
    cloudwatch = ctx.client("cloudwatch")
    firing = [
        a["AlarmName"]
        for page in cloudwatch.get_paginator("describe_alarms").paginate(
            AlarmNamePrefix=f"{ctx.stack}-", StateValue="ALARM"
        )
        for a in page.get("MetricAlarms", [])
    ]
    return _item(
        "alarms", not firing, ", ".join(firing) + " in ALARM" if firing else "none in ALARM", firing=firing
    )


def _last_sweep(ctx: Any, now: datetime) -> dict[str, Any]:
    group = ctx.stack_outputs().get("SessionSweeperLogGroupName")
    if not group:
        return _item("last sweep", False, "the stack has no SessionSweeperLogGroupName output")
    streams = ctx.client("logs").describe_log_streams(
        logGroupName=group, orderBy="LastEventTime", descending=True, limit=1
    )["logStreams"]
    last = streams[0].get("lastEventTimestamp") if streams else None
    if not last:
        return _item("last sweep", False, f"the sweeper never logged in {group}")
    at = datetime.fromtimestamp(last / 1000, UTC)
    age = (now - at).total_seconds()
    ok = age <= SWEEP_STALE_SECONDS
    detail = f"{int(age)}s ago ({at:%Y-%m-%d %H:%M:%S}Z)" + (
        "" if ok else ": the sweeper is not running every minute"
    )
    return _item("last sweep", ok, detail, at=at.isoformat())


def _slack(ctx: Any, parameters: dict[str, str]) -> list[dict[str, Any]]:
    from ssm_warden.cli.slack import probe_slack

    probes = probe_slack(
        ctx,
        parameters.get("SlackSecretName"),
        post=False,
        allowed_ids=parameters.get("SlackAllowedUserIds", ""),
    )
    return [_item(f"slack {p.check}", p.ok, p.detail) for p in probes]


def _run(args: argparse.Namespace) -> int:
    from ssm_warden.cli.aws import AwsContext

    ctx = AwsContext.from_args(args)
    parameters = ctx.stack_parameters()
    outputs = ctx.stack_outputs()
    from ssm_warden.clock import utc_now

    now = utc_now()
    items = [
        _item("stack", True, f"{ctx.stack} in {ctx.region}, version {outputs.get('Version', 'unknown')}")
    ]
    items += _policy(ctx, parameters)
    items += _queues(ctx)
    items.append(_alarms(ctx))
    items.append(_last_sweep(ctx, now))
    items += _slack(ctx, parameters)
    for item in items:
        if args.format == "json":
            emit_json(item)
        else:
            print(f"{'OK' if item['ok'] else 'ATTN':<6}{item['item']:<26}{item['detail']}")
    return EXIT_OK if all(i["ok"] for i in items) else EXIT_FINDING
