"""``ssm-warden redrive QUEUE``: put what waits in a dead-letter queue back to work, once its cause
is fixed. QUEUE is ``actions-dlq`` (back onto the action queue, where the executor's idempotency keeps
a redelivered action from acting twice), ``session-events-dlq`` or ``command-monitor-dlq`` (each
failed event or log batch is invoked again on its function, asynchronously). ``--dry-run`` only
counts. The redrive is recorded in the audit trail with your identity.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from ssm_warden.cli.options import EXIT_OK, CliError, add_aws_options, add_format, emit_json, plain

FUNCTION_OUTPUTS = {
    "session-events-dlq": "SessionEventsFunctionName",
    "command-monitor-dlq": "CommandMonitorFunctionName",
}


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "redrive", help="send dead-lettered work back (audited)", description=plain(__doc__)
    )
    parser.add_argument("queue", choices=["actions-dlq", "session-events-dlq", "command-monitor-dlq"])
    parser.add_argument("--dry-run", action="store_true", help="count the messages, move nothing")
    parser.add_argument("--max", type=int, default=1000, help="at most this many messages (default 1000)")
    add_aws_options(parser)
    add_format(parser)
    parser.set_defaults(run=_run)


def _receive(sqs: Any, url: str, limit: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    while len(messages) < limit:
        batch = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=min(10, limit - len(messages)),
            VisibilityTimeout=120,
            WaitTimeSeconds=1,
        ).get("Messages", [])
        if not batch:
            break
        messages.extend(batch)
    return messages


def _payload(body: str) -> str:
    """A Lambda on-failure record carries the original event as ``requestPayload``; an EventBridge
    dead letter is the event itself."""
    try:
        record = json.loads(body)
    except ValueError:
        return body
    if isinstance(record, dict) and "requestPayload" in record:
        return json.dumps(record["requestPayload"])
    return body


def _run(args: argparse.Namespace) -> int:
    from ssm_warden.audit import write_audit
    from ssm_warden.cli.aws import AwsContext
    from ssm_warden.cli.deployment import queue_url
    from ssm_warden.cli.operator import caller_arn, domain, operator_record

    ctx = AwsContext.from_args(args)
    sqs = ctx.client("sqs")
    source = queue_url(ctx, args.queue)
    if args.dry_run:
        depth = int(
            sqs.get_queue_attributes(QueueUrl=source, AttributeNames=["ApproximateNumberOfMessages"])[
                "Attributes"
            ]["ApproximateNumberOfMessages"]
        )
        if args.format == "json":
            emit_json({"queue": args.queue, "waiting": depth})
        else:
            print(f"{args.queue}: {depth} message(s) waiting; nothing moved (--dry-run)")
        return EXIT_OK
    actor = caller_arn(ctx)
    if args.queue == "actions-dlq":
        target = queue_url(ctx, "actions")

        def send(message: dict[str, Any]) -> None:
            sqs.send_message(QueueUrl=target, MessageBody=message["Body"])
    else:
        function = ctx.stack_outputs().get(FUNCTION_OUTPUTS[args.queue])
        if not function:
            raise CliError(
                f"the stack has no {FUNCTION_OUTPUTS[args.queue]} output: deploy the current template"
            )
        lam = ctx.client("lambda")

        def send(message: dict[str, Any]) -> None:
            lam.invoke(
                FunctionName=function, InvocationType="Event", Payload=_payload(message["Body"]).encode()
            )

    moved = 0
    for message in _receive(sqs, source, args.max):
        send(message)  # a failure stops here: the message stays in the dead-letter queue
        sqs.delete_message(QueueUrl=source, ReceiptHandle=message["ReceiptHandle"])
        moved += 1
    with domain(ctx):
        write_audit(
            operator_record(
                session_id="-",
                actor=actor,
                action="redrive",
                outcome=f"redrove {moved} message(s) from {args.queue}",
            )
        )
    if args.format == "json":
        emit_json({"queue": args.queue, "moved": moved})
    else:
        print(f"{args.queue}: {moved} message(s) sent back (audited)")
    return EXIT_OK
