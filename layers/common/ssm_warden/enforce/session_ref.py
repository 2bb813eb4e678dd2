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
        access=_access(record),
    )


def _access(record: SessionRecord) -> dict[str, str]:
    """A JIT session's request (the rest, reason, approvers and window, is added where the request is
    read: enforce/on_access.py) or an ECS Exec session's container facts."""
    principal = record.principal
    if principal and principal.access_request_id:
        return {"request_id": principal.access_request_id, "requester": principal.arn or "unknown"}
    if record.keyless:
        return {k: str(v) for k, v in record.keyless.items() if v is not None}
    return {}


def session_facts(record: SessionRecord) -> SessionFacts:
    return SessionFacts(
        target_tags=record.target_tags,
        target_id=record.target_id,
        account=record.account,
        principal_arn=record.principal.arn if record.principal else None,
        role_arn=record.principal.role_arn if record.principal else None,
        document_name=record.document_name,
    )
