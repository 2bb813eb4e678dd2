"""Command watch: session-log subscription (CloudWatch Logs) → commands judged → action queue."""

from __future__ import annotations

from typing import Any

from ssm_warden.observability import instrumented


@instrumented
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if "Records" in event:
        # Organisation mode (Kinesis): Powertools' batch utility first, before pydantic, so that it
        # builds no pydantic models of batch event types (see functions/action_executor/app.py).
        import aws_lambda_powertools.utilities.batch  # noqa: F401
    from ssm_warden.handlers.command_monitor import handle

    return handle(event)
