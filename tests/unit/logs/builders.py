"""Session-log subscription payloads built the way CloudWatch Logs builds them (gzip + base64)."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

ACCOUNT = "123456789012"
SESSION_ID = "alice-0e34861185201706f"
TARGET_ID = "i-0123456789abcdef0"
PRINCIPAL_ARN = f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/alice"
LOG_GROUP = "/aws/ssm/sessions"
FIRST_ID = 37_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000
T0_MS = 1_704_347_159_000  # 2024-01-04T05:45:59Z


def streamed(
    lines: list[str],
    session_id: str = SESSION_ID,
    *,
    target: str = TARGET_ID,
    principal: str = PRINCIPAL_ARN,
) -> str:
    """A streamed-session log event message (cloudWatchStreamingEnabled: true)."""
    return json.dumps(
        {
            "eventVersion": "1.0",
            "eventTime": "2024-01-04T05:45:59Z",
            "awsRegion": "us-east-1",
            "target": {"id": target},
            "userIdentity": {"arn": principal},
            "runAsUser": "ssm-user",
            "sessionId": session_id,
            "sessionData": lines,
        }
    )


def log_event(n: int, message: str, *, seconds: float = 0) -> dict[str, Any]:
    """The n-th log event of the stream (ids increase, as CloudWatch Logs' do)."""
    return {"id": str(FIRST_ID + n), "timestamp": T0_MS + int(seconds * 1000), "message": message}


def encode(document: Any) -> dict[str, Any]:
    return wrap(gzip.compress(json.dumps(document).encode()))


def wrap(compressed: bytes) -> dict[str, Any]:
    return {"awslogs": {"data": base64.b64encode(compressed).decode()}}


def payload(
    events: list[dict[str, Any]],
    *,
    stream: str = SESSION_ID,
    owner: str = ACCOUNT,
    message_type: str = "DATA_MESSAGE",
    log_group: str = LOG_GROUP,
) -> dict[str, Any]:
    """``{"awslogs": {"data": base64(gzip(json))}}`` holding ``events`` of one log stream."""
    return encode(
        {
            "messageType": message_type,
            "owner": owner,
            "logGroup": log_group,
            "logStream": stream,
            "subscriptionFilters": ["ssm-warden"],
            "logEvents": events,
        }
    )


def session_payload(
    *batches: list[str], start: int = 0, seconds: float = 0, target: str = TARGET_ID
) -> dict[str, Any]:
    """One streamed event per list of lines, numbered from ``start``."""
    return payload(
        [
            log_event(start + i, streamed(lines, target=target), seconds=seconds + i)
            for i, lines in enumerate(batches)
        ]
    )
