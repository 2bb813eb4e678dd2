"""The end of ``make demo``: the day-2 commands a person runs, on the morning just played.

A CloudFormation stack record named ``ssm-warden`` carries the local resources' names as the
deployed template's outputs would, so ``ssm-warden sessions``, ``status`` and ``replay`` run exactly
as against an account (moto cannot run the SAM transform; the resources come from template.yaml).
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import TextIO

from ssm_warden_local.demo.harness import SECRET_NAME, Stack

STACK_NAME = "ssm-warden"


def record_stack(stack: Stack) -> None:
    from ssm_warden import __version__
    from ssm_warden.clients import aws_client

    r = stack.resources
    outputs = {
        "SessionsTableName": r.tables["SessionsTable"],
        "AuditTableName": r.tables["AuditTable"],
        "ActionQueueUrl": r.queues["ActionQueue"],
        "ActionDeadLetterQueueUrl": r.queues["ActionDeadLetterQueue"],
        "SessionEventsDeadLetterQueueUrl": r.queues["SessionEventsDeadLetterQueue"],
        "CommandMonitorDeadLetterQueueUrl": r.queues["CommandMonitorDeadLetterQueue"],
        "SessionLogGroupName": stack.log_group,
        "Version": __version__,
    }
    parameters = {
        "ForceMonitorMode": os.environ.get("FORCE_MONITOR_MODE", "false"),
        "PolicyParameterName": "",
        "SlackSecretName": SECRET_NAME,
        "SlackAllowedUserIds": os.environ.get("SLACK_ALLOWED_USER_IDS", ""),
    }
    template = {
        "Parameters": {k: {"Type": "String", "Default": v} for k, v in parameters.items()},
        "Resources": {
            "Placeholder": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "demo-stack-record"}}
        },
        "Outputs": {k: {"Value": v} for k, v in outputs.items()},
    }
    aws_client("cloudformation").create_stack(StackName=STACK_NAME, TemplateBody=json.dumps(template))


def most_eventful_session(stack: Stack) -> str | None:
    """The session with the most findings (the one worth replaying)."""
    from ssm_warden.clients import aws_client

    best: tuple[int, str] | None = None
    for page in (
        aws_client("dynamodb")
        .get_paginator("scan")
        .paginate(TableName=stack.resources.tables["SessionsTable"])
    ):
        for item in page["Items"]:
            if "session_id" not in item:
                continue
            found = int(item.get("findings_seen", {}).get("N", "0"))
            if found and (best is None or found > best[0]):
                best = (found, item["session_id"]["S"])
    return best[1] if best else None


def show_day2(stack: Stack, out: TextIO, replay_html: Path) -> Path | None:
    """Run sessions, status and replay --html as a person would; their output goes to ``out``."""
    from ssm_warden.cli import main

    record_stack(stack)
    session = most_eventful_session(stack)
    commands: list[list[str]] = [["sessions"], ["status"]]
    if session:
        commands.append(["replay", session, "--html", str(replay_html)])
    with contextlib.redirect_stdout(out):
        for args in commands:
            print(
                f"\n$ ssm-warden {' '.join(a if a != str(replay_html) else replay_html.name for a in args)}"
            )
            main(args)
    return replay_html if session else None
