"""Session ledger: EventBridge (CloudTrail StartSession/ResumeSession/TerminateSession) → DynamoDB."""

from __future__ import annotations

from typing import Any

from ssm_warden.observability import instrumented


@instrumented
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from ssm_warden.handlers.session_events import handle

    return handle(event)
