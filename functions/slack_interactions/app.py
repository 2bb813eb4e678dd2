"""Slack interactivity: a Lambda Function URL behind the alert buttons (Terminate now, Extend, Acknowledge).

Signature, replay and user checks, the effect, the audit record and the message update all happen in
``ssm_warden.slack.interactions``.
"""

from __future__ import annotations

from typing import Any

from ssm_warden.observability import instrumented


@instrumented
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from ssm_warden.slack.interactions import handle_function_url_event

    return handle_function_url_event(event)
