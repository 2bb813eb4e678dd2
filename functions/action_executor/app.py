"""Action executor: SQS action requests → TerminateSession / Slack, every decision audited."""

from __future__ import annotations

from typing import Any

from ssm_warden.observability import instrumented


@instrumented
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    # Powertools' batch utility, imported after pydantic, builds pydantic models of every batch event
    # type for its type hints (~90 ms of a cold start); imported before, it does not (a mode it
    # supports). ssm-warden passes it no model, so it is imported first.
    import aws_lambda_powertools.utilities.batch  # noqa: F401

    from ssm_warden.handlers.action_executor import handle

    return handle(event, context)
