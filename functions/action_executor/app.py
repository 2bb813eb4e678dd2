"""Action executor: SQS action requests → TerminateSession / Slack, every decision audited."""

from __future__ import annotations

from typing import Any

from ssm_warden.observability import instrumented


@instrumented
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from ssm_warden.handlers.action_executor import handle

    return handle(event, context)
