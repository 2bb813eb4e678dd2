"""The audit trail in DynamoDB: append-only (a record is written once and never updated)."""

from __future__ import annotations

import json
from typing import Any

from ssm_warden.clients import aws_client
from ssm_warden.clock import iso
from ssm_warden.config import get_settings
from ssm_warden.models.audit import AuditRecord

NO_SESSION = "-"


def _sort_key(record: AuditRecord) -> str:
    return f"{iso(record.at)}#{record.record_id}"


def write_audit(record: AuditRecord) -> bool:
    """Append one record. Writing the same record (same time and id) twice keeps the first: returns
    False for the repeat, so redelivered actions leave one record."""
    item: dict[str, Any] = {
        "session_id": {"S": record.session_id},
        "sk": {"S": _sort_key(record)},
        "record": {"S": record.model_dump_json()},
        "decision": {"S": record.decision.value},
        "record_id": {"S": record.record_id},
    }
    client = aws_client("dynamodb")
    try:
        client.put_item(
            TableName=get_settings().audit_table,
            Item=item,
            ConditionExpression="attribute_not_exists(sk)",
        )
    except client.exceptions.ConditionalCheckFailedException:
        return False
    return True


def read_audit(session_id: str) -> list[AuditRecord]:
    """Every record of one session, oldest first."""
    client = aws_client("dynamodb")
    paginator = client.get_paginator("query")
    records: list[AuditRecord] = []
    for page in paginator.paginate(
        TableName=get_settings().audit_table,
        KeyConditionExpression="session_id = :s",
        ExpressionAttributeValues={":s": {"S": session_id}},
    ):
        records.extend(AuditRecord.model_validate(json.loads(i["record"]["S"])) for i in page["Items"])
    return records
