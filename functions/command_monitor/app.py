"""Command watch: session-log subscription (CloudWatch Logs) → commands judged → action queue."""

from __future__ import annotations

from typing import Any

from ssm_warden.observability import instrumented


@instrumented
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from ssm_warden.handlers.command_monitor import handle

    return handle(event)
