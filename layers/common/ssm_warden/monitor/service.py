"""The command watch: one session-log subscription batch → commands judged → actions queued.

Per batch (one log stream = one session):
1. decode the payload; malformed log events are reported and skipped, the rest go on;
2. read the session and its command-watch state from the ledger; drop the events already processed
   (ids not above the stored last event id: a redelivered batch is skipped, not counted twice);
3. extract commands and output lines, carrying the state across events and invocations;
4. judge commands (``judge_command``) and output lines (``judge_output``: secrets on screen) under
   the session's effective policy, and decide actions;
5. queue the actions and write the audit records, then store the new state with the counts (a
   conditional write on the last event id), then record output activity (at most once a minute).

A failure to queue or to write the ledger raises, so Lambda retries the invocation: the stored last
event id makes the retry redo only what was not stored, and action ids (derived from the session,
the event id and the command's index) make a repeated action a no-op for the executor.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import ValidationError

from ssm_warden.enforce.decide import Decisions, decide_findings
from ssm_warden.errors import MalformedEventError, TransientError
from ssm_warden.logs.payload import (
    EventLines,
    MalformedRecord,
    SessionLogBatch,
    open_subscription,
    principal_of,
    target_of,
)
from ssm_warden.models.actions import SessionRef
from ssm_warden.models.audit import AuditRecord
from ssm_warden.models.findings import Finding
from ssm_warden.models.session import SessionRecord
from ssm_warden.monitor.judging import BatchJudge
from ssm_warden.policy.evaluate import EffectiveSettings, SessionFacts, effective_settings
from ssm_warden.transcript.confidence import allows_termination, why_not
from ssm_warden.transcript.extract import Extracted, Extractor, WatchState

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ssm_warden.models.actions import ActionRequest
    from ssm_warden.policy.store import PolicyState

OUTPUT_TOUCH_INTERVAL = timedelta(minutes=1)


class SessionStore(Protocol):
    """The ledger operations the command watch needs (``SessionRepository`` has them)."""

    def get_with_watch(
        self, account: str, region: str, session_id: str
    ) -> tuple[SessionRecord | None, dict[str, Any] | None]: ...

    def save_watch(
        self,
        account: str,
        region: str,
        session_id: str,
        *,
        watch: dict[str, Any],
        previous_event_id: str | None,
        commands: int,
        findings: int,
        now: datetime,
    ) -> bool: ...

    def touch_output(
        self, account: str, region: str, session_id: str, at: datetime, min_interval: timedelta
    ) -> bool: ...


class Sink(Protocol):
    def submit(self, actions: Sequence[ActionRequest]) -> None: ...


@dataclass
class Dependencies:
    """Everything with effects, so that tests and the bench can pass in-memory stand-ins."""

    store: SessionStore
    sink: Sink
    write_audit: Callable[[AuditRecord], bool]
    policy: Callable[[], PolicyState]
    detector: Callable[[tuple[str, ...]], BatchJudge]  # ``judging.batch_judge`` in the function
    region: str
    force_monitor: bool = False
    report: Callable[[str, dict[str, Any]], None] = lambda message, extra: None


@dataclass
class BatchResult:
    """What one invocation did (returned by the handler, logged, asserted on by tests)."""

    status: str  # processed | duplicate | control | rejected | empty
    session_id: str | None = None
    events: int = 0
    events_skipped: int = 0  # already processed (a redelivery)
    commands: int = 0
    output_lines: int = 0
    findings: Counter[str] = field(default_factory=Counter)  # by severity
    actions: int = 0
    malformed: list[MalformedRecord] = field(default_factory=list)
    known_session: bool = True
    state_saved: bool = False
    output_touched: bool = False

    def summary(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "session_id": self.session_id,
            "events": self.events,
            "events_skipped": self.events_skipped,
            "commands": self.commands,
            "output_lines": self.output_lines,
            "findings": dict(self.findings),
            "actions": self.actions,
            "malformed": len(self.malformed),
            "known_session": self.known_session,
        }


@dataclass(frozen=True)
class Judged:
    """The decisions for a batch's commands and output lines."""

    decisions: Decisions
    findings: Counter[str]
    finding_count: int


def process_subscription(event: dict[str, Any], deps: Dependencies) -> BatchResult:
    """Handle one subscription payload end to end (see the module docstring)."""
    with gc_paused():
        return _process(event, deps)


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection during a batch. Decoding 10,000 events allocates some 100,000
    containers that all stay alive until the batch ends; the collector would traverse them again and
    again (a tenth of the batch's time) to find nothing. Collection resumes afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _process(event: dict[str, Any], deps: Dependencies) -> BatchResult:
    try:
        batch = open_subscription(event)
    except MalformedEventError as exc:
        return BatchResult(status="rejected", malformed=[MalformedRecord("payload", str(exc))])
    result = BatchResult(status="processed", malformed=batch.malformed)
    if batch.is_control:
        result.status = "control"
        return result
    session_id = batch.log_stream
    result.session_id = session_id or None
    if not session_id:
        batch.malformed.append(MalformedRecord("payload", "logStream (the session id) is empty"))
        result.status = "rejected"
        return result
    if not batch.raw_events:
        result.status = "empty"
        return result

    account = batch.owner
    record, stored = deps.store.get_with_watch(account, deps.region, session_id)
    state = _load_state(stored, deps, session_id)
    previous = state.last_event_id if state else None
    last_seen = int(previous) if previous and previous.isdigit() else -1
    events, result.events_skipped = batch.event_lines(after_sequence=last_seen)
    result.events = len(events)
    if not events:
        result.status = "duplicate" if result.events_skipped else "empty"
        if events.newest_skipped_ms is not None:
            # A retry of a batch whose state was stored but whose activity write failed: write it now
            # (conditional, so a plain redelivery changes nothing), or the idle limit would count
            # from an older output.
            result.output_touched = deps.store.touch_output(
                account, deps.region, session_id, _utc(events.newest_skipped_ms), OUTPUT_TOUCH_INTERVAL
            )
        return result

    extractor = Extractor(state)
    extractor.feed_events(events.event_ids, events.starts, events.lines)
    extracted = extractor.result
    result.commands = len(extracted.commands)
    result.output_lines = extracted.output_count

    result.known_session = record is not None and (record.started_at is not None or record.discovered)
    session, facts = session_context(record, batch, events.document, deps.region, session_id)
    if not result.known_session:
        deps.report(
            "session unknown to the ledger (no StartSession yet): judging it with the facts its log "
            "events carry",
            {"session_id": session_id, "target_id": session.target_id, "principal": session.principal_arn},
        )
    policy_state = deps.policy()
    settings = effective_settings(policy_state.policy.policy, facts)
    detector = deps.detector(tuple(settings.rule_packs))
    judged = judge_extracted(
        extracted,
        events,
        session=session,
        settings=settings,
        policy_state=policy_state,
        detector=detector,
        force_monitor=deps.force_monitor,
    )
    result.findings = judged.findings
    result.actions = len(judged.decisions.actions)

    if judged.decisions.actions:
        deps.sink.submit(judged.decisions.actions)
    for audit in judged.decisions.audit:
        deps.write_audit(audit)

    newest = _utc(max(events.timestamps))
    saved = deps.store.save_watch(
        account,
        deps.region,
        session_id,
        watch=extractor.state.model_dump(mode="json"),
        previous_event_id=previous,
        commands=len(extracted.commands),
        findings=judged.finding_count,
        now=newest,
    )
    if not saved:
        # Another invocation stored a newer state while this one ran: retry from that state (the
        # actions queued above carry the same ids on the retry, so the executor ignores repeats).
        raise TransientError(f"command-watch state of {session_id} moved on during the batch; retrying")
    result.state_saved = True
    result.output_touched = deps.store.touch_output(
        account, deps.region, session_id, newest, OUTPUT_TOUCH_INTERVAL
    )
    return result


def _load_state(stored: dict[str, Any] | None, deps: Dependencies, session_id: str) -> WatchState | None:
    if stored is None:
        return None
    try:
        return WatchState.model_validate(stored)
    except ValidationError as exc:
        # A state this version cannot read: start afresh (prompts are relearned) but keep the last id.
        deps.report(
            "unreadable command-watch state; starting afresh", {"session_id": session_id, "error": str(exc)}
        )
        last = stored.get("last_event_id")
        return WatchState(last_event_id=last if isinstance(last, str) else None)


def session_context(
    record: SessionRecord | None,
    batch: SessionLogBatch,
    document: dict[str, Any] | None,
    region: str,
    session_id: str,
) -> tuple[SessionRef, SessionFacts]:
    """The session as the ledger knows it, completed with what a streamed log event carries."""
    target_id = target_of(document)
    principal_arn = principal_of(document)
    principal = record.principal if record else None
    ref = SessionRef(
        session_id=session_id,
        account=batch.owner,
        region=region,
        principal_arn=(principal.arn if principal else None) or principal_arn,
        target_id=(record.target_id if record else None) or target_id,
        target_tags=record.target_tags if record else {},
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
        role_arn=(principal.role_arn if principal else None) or role_arn_of(ref.principal_arn),
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
) -> Judged:
    """Judge every command and output line; decide actions (``now`` is the log event's time, so a
    retried batch makes the same decisions and the same audit records)."""
    times = dict(zip(events.event_ids, events.timestamps, strict=True))
    first = events.timestamps[0] if events.timestamps else 0
    decisions = Decisions()
    by_severity: Counter[str] = Counter()
    count = 0

    def decide(findings: list[Finding], event_id: str, source_id: str, alert_only: bool = False) -> None:
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
                force_monitor=force_monitor or alert_only,
            )
        )

    for command in extracted.commands:
        # Every reading of the line (a soft wrap at an unknown width gives several); a command the
        # terminal model is not sure ran, or a finding on a variant reading only, is alerted, never
        # terminated (transcript.confidence).
        for text in command.texts:
            findings = detector.judge_command(text)
            if findings:
                alert_only = not allows_termination(command, text)
                if alert_only:  # say why it is not terminated
                    note = f" ({why_not(command)})"
                    findings = [f.model_copy(update={"reason": f.reason + note}) for f in findings]
                decide(findings, command.event_id, command.source_id, alert_only)
                break
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
