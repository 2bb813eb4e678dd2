"""Session sweeper (every minute): reconcile with DescribeSessions, apply idle/duration limits."""

from __future__ import annotations

from typing import Any

from ssm_warden.observability import instrumented


@instrumented
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from ssm_warden.handlers.session_sweeper import handle

    return handle(event, context)
