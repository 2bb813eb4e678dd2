"""The session a batch is judged as, and the judging of its commands and output lines. Pure.

A verified stream is judged as the session the ledger holds (target, tags and principal from
CloudTrail, never from the log); an unverified one as what its log claims, whose decisions the
command watch then turns into alerts only (``log_alerts.unverified``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ssm_warden.enforce.decide import Decisions, decide_findings
from ssm_warden.logs.payload import Claim, EventLines, SessionLogBatch
from ssm_warden.models.actions import SessionRef
from ssm_warden.models.findings import Finding
from ssm_warden.models.session import SessionRecord
from ssm_warden.monitor.binding import Standing
from ssm_warden.monitor.judging import BatchJudge
from ssm_warden.policy.evaluate import EffectiveSettings, SessionFacts
from ssm_warden.transcript.extract import Extracted

if TYPE_CHECKING:
    from ssm_warden.policy.store import PolicyState


@dataclass(frozen=True)
class Judged:
    """The decisions for a batch's commands and output lines."""

    decisions: Decisions
    findings: Counter[str]
    finding_count: int


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


def judge_extracted(
    extracted: Extracted,
    events: EventLines,
    *,
    session: SessionRef,
    settings: EffectiveSettings,
    policy_state: PolicyState,
    detector: BatchJudge,
    force_monitor: bool,
    exemption_at: datetime | None = None,
) -> Judged:
    """Judge every command and output line; decide actions. ``now`` is the log event's time, clamped
    by the caller to the arrival plus the clock skew, so a retried batch makes the same records;
    exemptions are checked at ``exemption_at`` (the arrival)."""
    times = dict(zip(events.event_ids, events.timestamps, strict=True))
    first = events.timestamps[0] if events.timestamps else 0
    decisions = Decisions()
    by_severity: Counter[str] = Counter()
    count = 0

    def decide(findings: list[Finding], event_id: str, source_id: str) -> None:
        nonlocal count
        count += len(findings)
        by_severity.update(f.severity.value for f in findings)
        decisions.extend(
            decide_findings(
                session=session,
                findings=findings,
                settings=settings,
                policy=policy_state.policy,
                now=_utc(times.get(event_id, first)),
                source_id=source_id,
                force_monitor=force_monitor,
                exemption_at=exemption_at,
            )
        )

    for command in extracted.commands:
        findings = detector.judge_command(command.text)
        if findings:
            decide(findings, command.event_id, command.source_id)
    seen: set[tuple[str, str]] = set()
    for line, findings in detector.judge_output_of(extracted):
        # The same secret printed again (``cat`` twice, a scrolled log) is one finding per batch.
        fresh = [f for f in findings if (f.rule, line.text) not in seen]
        seen.update((f.rule, line.text) for f in findings)
        if fresh:
            decide(fresh, line.event_id, line.source_id)
    return Judged(decisions, by_severity, count)


def _utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)
