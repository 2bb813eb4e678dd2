"""Mapping a ledger record to the session reference that travels with an action."""

from __future__ import annotations

from ssm_warden.models.actions import SessionRef
from ssm_warden.models.session import SessionRecord
from ssm_warden.policy.evaluate import SessionFacts


def session_ref(record: SessionRecord, log_group: str | None = None) -> SessionRef:
    return SessionRef(
        session_id=record.session_id,
        account=record.account,
        region=record.region,
        principal_arn=record.principal.arn if record.principal else None,
        target_id=record.target_id,
        target_tags=record.target_tags,
        document_name=record.document_name,
        reason=record.reason,
        started_at=record.started_at,
        log_group=log_group,
    )


def session_facts(record: SessionRecord) -> SessionFacts:
    return SessionFacts(
        target_tags=record.target_tags,
        target_id=record.target_id,
        account=record.account,
        principal_arn=record.principal.arn if record.principal else None,
        role_arn=record.principal.role_arn if record.principal else None,
        document_name=record.document_name,
    )
