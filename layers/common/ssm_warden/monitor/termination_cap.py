"""A cap on terminations driven by session-log content, shared by every invocation.

A host that can write to the session-log group can write into many sessions' streams, and a writer
that knows a session's exact id, target and principal passes the binding checks. Nothing in
CloudWatch Logs records which host wrote an event, so the cap cannot be per writer: it is per
account and region, per minute (``LOG_TERMINATIONS_PER_MINUTE``, default 5). A termination beyond it
becomes an alert that says why it was held back; a person can still press Terminate.

Only terminations that would happen count (enforce mode): "would terminate" in monitor mode ends
nothing. The count lives in a DynamoDB item per minute (``SessionRepository.claim_termination_slot``),
keyed by action id so that a retried batch takes no second slot.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ssm_warden.models.actions import ActionKind, ActionRequest, Mode, Trigger

ClaimSlot = Callable[[str, str, datetime, str, int], bool]  # account, region, minute, action id, cap


def capped(
    actions: list[ActionRequest], *, claim: ClaimSlot, cap: int, now: datetime
) -> tuple[list[ActionRequest], int]:
    """The actions with every log-driven termination beyond the cap turned into an alert, and how
    many were held back."""
    out: list[ActionRequest] = []
    held = 0
    for action in actions:
        session = action.session
        if (
            action.kind is ActionKind.TERMINATE
            and action.mode is Mode.ENFORCE
            and action.trigger is Trigger.FINDING
            and session is not None
            and not claim(session.account, session.region, now, action.action_id, cap)
        ):
            held += 1
            out.append(
                action.model_copy(
                    update={
                        "kind": ActionKind.ALERT,
                        "why": (
                            f"{action.why}. Not terminated automatically: more than {cap} terminations "
                            "driven by session logs in this account and region this minute (a forger "
                            "could be writing into many streams). Check it and press Terminate if it is real."
                        ),
                    }
                )
            )
            continue
        out.append(action)
    return out, held
