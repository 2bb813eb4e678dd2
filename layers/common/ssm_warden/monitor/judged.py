"""The session a batch is judged as, and the judging of its commands and output lines. Pure.

A verified stream is judged as the session the ledger holds (target, tags and principal from
CloudTrail, never from the log); an unverified one as what its log claims, whose decisions the
command watch then turns into alerts only (``log_alerts.unverified``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ssm_warden.logs.payload import Claim, SessionLogBatch
from ssm_warden.models.actions import SessionRef
from ssm_warden.models.session import SessionRecord
from ssm_warden.monitor.binding import Standing
from ssm_warden.policy.evaluate import SessionFacts

if TYPE_CHECKING:
    pass


def session_context(
    record: SessionRecord | None,
    batch: SessionLogBatch,
    claim: Claim | None,
    standing: Standing,
    region: str,
    session_id: str,
) -> tuple[SessionRef, SessionFacts]:
    """The session as the ledger knows it; for an unverified stream, as its log claims it to be."""
    verified = standing is Standing.VERIFIED and record is not None
    principal = record.principal if record else None
    ref = SessionRef(
        session_id=session_id,
        account=batch.owner,
        region=region,
        principal_arn=(principal.arn if principal else None)
        if verified
        else (claim.principal_arn if claim else None),
        target_id=(record.target_id if record else None)
        if verified
        else (claim.target_id if claim else None),
        target_tags=record.target_tags if record and verified else {},
        document_name=record.document_name if record else None,
        reason=record.reason if record else None,
        started_at=record.started_at if record else None,
        log_group=batch.log_group or None,
    )
    facts = SessionFacts(
        target_tags=ref.target_tags,
        target_id=ref.target_id,
        account=batch.owner,
        principal_arn=ref.principal_arn,
        role_arn=(principal.role_arn if principal and verified else None) or role_arn_of(ref.principal_arn),
        document_name=ref.document_name,
    )
    return ref, facts


def role_arn_of(principal_arn: str | None) -> str | None:
    """``arn:aws:sts::1:assumed-role/Admin/alice`` → ``arn:aws:iam::1:role/Admin``."""
    if not principal_arn or ":assumed-role/" not in principal_arn:
        return None
    head, _, rest = principal_arn.partition(":assumed-role/")
    role = rest.split("/", 1)[0]
    partition_and_account = head.replace(":sts:", ":iam:", 1)
    return f"{partition_and_account}:role/{role}" if role else None
