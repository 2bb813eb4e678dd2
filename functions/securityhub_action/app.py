"""Security Hub custom action "Terminate SSM session": EventBridge → checks → the action queue.

The checks (action target, account, allowlist, ssm-warden finding, live session), the queued request
and the audit record all happen in ``ssm_warden.securityhub.custom_action``.
"""

from __future__ import annotations

from typing import Any

from ssm_warden.observability import instrumented


@instrumented
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from ssm_warden.securityhub.custom_action import handle_custom_action_event

    return dict(handle_custom_action_event(event))
