"""The ledger path: a CloudTrail session event in, the ledger updated, the outcome out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from ssm_warden.config import get_settings
from ssm_warden.errors import MalformedEventError
from ssm_warden.ledger.events import change_from_event
from ssm_warden.ledger.repository import SessionRepository, WriteOutcome
from ssm_warden.ledger.tags import TagLookup, lookup_target_tags
from ssm_warden.models.cloudtrail import CloudTrailEvent
from ssm_warden.models.session import (
    DeniedAttempt,
    LedgerChange,
    SessionResumed,
    SessionStarted,
    SessionTerminated,
)


@dataclass(frozen=True)
class LedgerResult:
    change: LedgerChange
    outcome: WriteOutcome
    tags: TagLookup


def parse_session_event(event: dict[str, Any]) -> CloudTrailEvent:
    """Parse an EventBridge CloudTrail event; a malformed one raises ``MalformedEventError``."""
    from aws_lambda_powertools.utilities.parser import parse

    try:
        parsed: CloudTrailEvent = parse(event=event, model=CloudTrailEvent)
    except (ValidationError, ValueError, TypeError) as exc:
        raise MalformedEventError(f"not a CloudTrail session event: {exc}") from exc
    return parsed


def record_session_event(
    parsed: CloudTrailEvent, repository: SessionRepository | None = None
) -> LedgerResult:
    """Apply one CloudTrail session event to the ledger (idempotent, order-independent)."""
    settings = get_settings()
    change = change_from_event(
        parsed.detail, warden_role_arn=settings.warden_role_arn, member_role_name=settings.member_role_name
    )
    repo = repository or SessionRepository()
    tags = TagLookup()
    match change:
        case SessionStarted():
            tags = lookup_target_tags(change.target_id, change.account, change.region)
            outcome = repo.apply_start(change, tags.tags, tags.failed)
        case SessionResumed():
            outcome = repo.apply_resume(change)
        case SessionTerminated():
            outcome = repo.apply_terminate(change)
        case DeniedAttempt():
            outcome = repo.record_denied(change)
    return LedgerResult(change=change, outcome=outcome, tags=tags)
