"""Reads of a deployed ssm-warden that several day-2 commands share: its ledger, its policy, its queues.

Every read goes through the command line's ``AwsContext`` (the caller's credentials and region).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ssm_warden.cli.aws import OUTPUT_SESSIONS_TABLE, AwsContext
from ssm_warden.cli.options import CliError

# Stack outputs naming the queues (template.yaml Outputs), by the short name commands take.
QUEUE_OUTPUTS = {
    "actions": "ActionQueueUrl",
    "actions-dlq": "ActionDeadLetterQueueUrl",
    "session-events-dlq": "SessionEventsDeadLetterQueueUrl",
    "command-monitor-dlq": "CommandMonitorDeadLetterQueueUrl",
}
DEAD_LETTER_QUEUES = ("actions-dlq", "session-events-dlq", "command-monitor-dlq")


def sessions_table(ctx: AwsContext, explicit: str | None = None) -> str:
    return ctx.stack_output(OUTPUT_SESSIONS_TABLE, explicit=explicit, env="SESSIONS_TABLE")


def queue_url(ctx: AwsContext, name: str) -> str:
    if name.startswith(("https://", "http://")):
        return name
    if name not in QUEUE_OUTPUTS:
        raise CliError(f"unknown queue {name!r}: one of {', '.join(QUEUE_OUTPUTS)} or a queue URL")
    return ctx.stack_output(QUEUE_OUTPUTS[name])


def read_active_sessions(ctx: AwsContext, table: str) -> list[Any]:
    """Every active session of the ledger, full records (the index holds only part of each)."""
    from ssm_warden.ledger.dynamo import from_item
    from ssm_warden.ledger.keys import ACTIVE_INDEX, all_active_shards
    from ssm_warden.models.session import SessionRecord

    client = ctx.client("dynamodb")
    keys: list[str] = []
    try:
        for shard in all_active_shards():
            for page in client.get_paginator("query").paginate(
                TableName=table,
                IndexName=ACTIVE_INDEX,
                KeyConditionExpression="active_shard = :s",
                ExpressionAttributeValues={":s": {"S": shard}},
                ProjectionExpression="pk",
            ):
                keys.extend(item["pk"]["S"] for item in page["Items"])
    except client.exceptions.ResourceNotFoundException as exc:
        raise CliError(
            f"no sessions table {table!r} in {ctx.region}: check --region, --stack or --table"
        ) from exc
    records = []
    for start in range(0, len(keys), 100):
        request: dict[str, Any] = {table: {"Keys": [{"pk": {"S": k}} for k in keys[start : start + 100]]}}
        while request:
            response = client.batch_get_item(RequestItems=request)
            for item in response["Responses"].get(table, []):
                records.append(SessionRecord.model_validate(from_item(item)))
            request = response.get("UnprocessedKeys") or {}
    return sorted(records, key=lambda r: (r.started_at is None, r.started_at, r.session_id))


def read_session(ctx: AwsContext, table: str, session_id: str) -> Any | None:
    """One session's ledger record by id (any account and region), or None."""
    from ssm_warden.ledger.dynamo import from_item
    from ssm_warden.models.session import SessionRecord

    client = ctx.client("dynamodb")
    found = []
    try:
        for page in client.get_paginator("scan").paginate(
            TableName=table,
            FilterExpression="session_id = :s",
            ExpressionAttributeValues={":s": {"S": session_id}},
        ):
            found.extend(page["Items"])
    except client.exceptions.ResourceNotFoundException as exc:
        raise CliError(
            f"no sessions table {table!r} in {ctx.region}: check --region, --stack or --table"
        ) from exc
    sessions = [i for i in found if i.get("record_type", {}).get("S", "session") == "session"]
    return SessionRecord.model_validate(from_item(sessions[0])) if sessions else None


@dataclass(frozen=True)
class PolicyInForce:
    loaded: Any  # LoadedPolicy
    source: str  # "ssm:<name>", a file, or "bundled"


def policy_in_force(ctx: AwsContext, policy_file: str | None = None) -> PolicyInForce:
    """The policy the deployment applies: ``policy_file`` when given, else the stack's
    PolicyParameterName parameter, else the bundled default (this CLI's copy of it)."""
    from ssm_warden.policy.loader import default_policy, load_policy_file, load_policy_text

    if policy_file:
        return PolicyInForce(load_policy_file(policy_file), policy_file)
    try:
        name = ctx.stack_parameters().get("PolicyParameterName")
    except CliError:
        name = None
    if not name:
        return PolicyInForce(default_policy(), "bundled")
    ssm = ctx.client("ssm")
    try:
        text = ssm.get_parameter(Name=name)["Parameter"]["Value"]
    except ssm.exceptions.ParameterNotFound as exc:
        raise CliError(f"the stack's policy parameter {name} does not exist in {ctx.region}") from exc
    return PolicyInForce(load_policy_text(text, source=f"ssm:{name}"), f"ssm:{name}")
