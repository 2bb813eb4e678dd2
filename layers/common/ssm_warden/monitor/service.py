"""The command watch: one session-log subscription batch → commands judged → actions queued.

Everything in a session log is written by whoever can write to the group (aws-facts §7), so:

1. decode the payload; malformed log events are reported and skipped, the rest go on. A payload
   from a log group that is not the account's session-log group is not a session log: reported,
   judged against no one;
2. read the session and its watch memory from the ledger; a batch whose fingerprint was processed
   before is a redelivery and is skipped (``watch_state``): any other batch is processed, also one
   older than a batch already seen;
3. bind the events to the session (``binding``): events that claim the session but do not match its
   StartSession are refused and reported as forged (a tamper alert of their own, once per stream and
   window); a stream the ledger does not know is unverified (alerts only, labelled as claimed);
4. time everything by the arrival of the batch (the injected clock): the idle limit counts from it,
   an event dated more than ``CLOCK_SKEW`` ahead is reported and judged at the clamped time;
5. extract commands and output lines from the accepted events, carrying the state across events
   and invocations; judge them under the session's effective policy and decide actions; cap the
   terminations log content may cause (``termination_cap``);
6. queue the actions and write the audit records, then store the new state with the counts in the
   stream's own small watch item (one conditional write on the batch count), then, at most every
   ``SESSION_FLUSH_INTERVAL`` (and on the first batch), copy the counts and the last output time
   onto the session item (``watch_state``).

A failure to queue or to write the ledger raises, so Lambda retries the invocation: the stored
fingerprints make a retry of a stored batch a no-op, and action ids (derived from the session, the
event id and the command's index) make a repeated action a no-op for the executor.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ssm_warden.enforce.decide import Decisions, decide_findings
from ssm_warden.errors import MalformedEventError, TransientError
from ssm_warden.logs.payload import (
    Claim,
    EventLines,
    MalformedRecord,
    SessionLogBatch,
    open_subscription,
)
from ssm_warden.models.actions import ClaimedSession, SessionRef
from ssm_warden.models.findings import Finding
from ssm_warden.monitor import log_alerts
from ssm_warden.monitor.binding import Standing, bind, expected_log_group
from ssm_warden.monitor.deps import BatchResult, Dependencies, SessionStore, Sink
from ssm_warden.monitor.judged import role_arn_of, session_context
from ssm_warden.monitor.judging import BatchJudge, own_network_of
from ssm_warden.monitor.termination_cap import capped
from ssm_warden.monitor.watch_state import STORED_PENDING_CHARS, WatchMemory
from ssm_warden.policy.evaluate import EffectiveSettings, SessionFacts, effective_settings
from ssm_warden.transcript.confidence import allows_termination, why_not
from ssm_warden.transcript.extract import Extracted, Extractor

if TYPE_CHECKING:
    from ssm_warden.policy.store import PolicyState

# How far ahead of its arrival an event may be dated before it is reported: the agent stamps events
# with the host's clock at upload, and hosts' clocks drift. PutLogEvents itself accepts two hours.
CLOCK_SKEW = timedelta(minutes=5)


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
    arrival = deps.clock()
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
    account = batch.owner
    expected = expected_log_group(account, deps.session_log_group, deps.member_log_groups)
    if batch.log_group != expected:
        return _not_a_session_log(batch, expected, deps, arrival, result)
    if not batch.raw_events:
        result.status = "empty"
        return result

    record, item, legacy = deps.store.get_with_watch(account, deps.region, session_id)
    memory = WatchMemory.load(item, record, legacy)
    if memory.unreadable:
        deps.report(
            "unreadable command-watch state; starting afresh",
            {"session_id": session_id, "error": memory.unreadable},
        )
    events, _ = batch.event_lines()
    if not events:
        result.status = "empty"
        return result
    fingerprint = events.fingerprint()
    if memory.has_seen(fingerprint):
        result.status = "duplicate"
        result.events_skipped = len(events)
        if record is not None and memory.batches is not None and memory.flushed_n == memory.batches:
            # A retry of a batch whose state was stored but whose session write may have failed:
            # write it now (conditional, so a plain redelivery changes nothing), or the counts and
            # the index's last output would stay behind.
            result.output_touched = _flush(deps, account, session_id, memory)
        return result

    binding = bind(events, session_id, record)
    accepted = events.select(binding.accepted) if binding.forged else events
    result.events = len(accepted)
    result.forged_events = len(binding.forged)
    result.standing = binding.standing.value
    result.known_session = binding.standing is Standing.VERIFIED
    claim = _first_claim(accepted) or _first_claim(events)
    session, facts = session_context(record, batch, claim, binding.standing, deps.region, session_id)
    if binding.standing is Standing.UNVERIFIED and accepted:
        deps.report(
            "session unknown to the ledger (no StartSession yet): its log is judged as unverified, "
            "alerts only, with the facts it claims",
            {"session_id": session_id, "claimed_target": session.target_id, "claimed": session.principal_arn},
        )
    policy_state = deps.policy()
    settings = effective_settings(policy_state.policy.policy, facts)
    claimed = ClaimedSession(
        session_id=session_id,
        target_id=claim.target_id if claim else None,
        principal_arn=claim.principal_arn if claim else None,
        log_group=batch.log_group,
    )
    decisions = Decisions()
    if binding.forged:
        refused = log_alerts.refused_events(
            events,
            binding,
            account=account,
            region=deps.region,
            stream=session_id,
            log_group=batch.log_group,
            settings=settings,
            policy=policy_state.policy,
            now=arrival,
        )
        decisions.extend(refused)
        deps.report(
            "forged session-log events refused",
            {"session_id": session_id, "forged": len(binding.forged), "why": refused.actions[0].why},
        )

    ceiling_ms = int((arrival + CLOCK_SKEW).timestamp() * 1000)
    future = [t for t in accepted.timestamps if t > ceiling_ms]
    result.future_events = len(future)
    if future:
        ahead = timedelta(milliseconds=max(future)) - timedelta(seconds=arrival.timestamp())
        decisions.actions.append(
            log_alerts.future_events_alert(
                account=account,
                region=deps.region,
                stream=session_id,
                log_group=batch.log_group,
                count=len(future),
                ahead=ahead,
                skew=CLOCK_SKEW,
                claimed=claimed,
                settings=settings,
                policy=policy_state.policy,
                now=arrival,
            )
        )
        # Timed at the latest an honest clock could say. (A retry of such a batch, arriving later,
        # times them later: its audit records may repeat, under the same ids; its actions do not.)
        accepted.timestamps = [min(t, ceiling_ms) for t in accepted.timestamps]

    verified = binding.standing is Standing.VERIFIED
    extractor = Extractor(memory.terminal_for(verified))
    extractor.feed_events(accepted.event_ids, accepted.starts, accepted.lines)
    # A long command still being typed is judged now rather than stored whole (watch_state).
    extractor.judge_pending_beyond(STORED_PENDING_CHARS)
    extracted = extractor.result
    result.commands = len(extracted.commands)
    result.output_lines = extracted.output_count

    detector = deps.detector(tuple(settings.rule_packs), own_network_of(settings))
    judged = judge_extracted(
        extracted,
        accepted,
        session=session,
        settings=settings,
        policy_state=policy_state,
        detector=detector,
        force_monitor=deps.force_monitor,
        exemption_at=arrival,
    )
    result.findings = judged.findings
    if verified:
        actions, result.terminations_held = capped(
            judged.decisions.actions,
            claim=deps.store.claim_termination_slot,
            cap=deps.log_terminations_per_minute,
            now=arrival,
        )
        decisions.actions.extend(actions)
        decisions.audit.extend(judged.decisions.audit)
    else:
        decisions.actions.extend(log_alerts.unverified(a, claimed) for a in judged.decisions.actions)
        decisions.audit.extend(log_alerts.unverified_audit(r) for r in judged.decisions.audit)
    if result.terminations_held:
        deps.report(
            "log-driven termination cap reached: terminations held back as alerts",
            {
                "session_id": session_id,
                "held": result.terminations_held,
                "cap": deps.log_terminations_per_minute,
            },
        )
    result.actions = len(decisions.actions)

    if decisions.actions:
        deps.sink.submit(decisions.actions)
    for audit in decisions.audit:
        deps.write_audit(audit)

    if record is None and not accepted:
        return result  # every event forged into a stream no session owns: nothing of its own to keep
    output_at = arrival if accepted else None
    flush = record is not None and memory.flush_due(arrival, output=output_at is not None)
    stored = memory.after(
        extractor.state,
        fingerprint,
        output_at,
        verified=verified,
        commands=len(extracted.commands),
        findings=judged.finding_count,
        flush_at=arrival if flush else None,
    )
    saved = deps.store.save_watch(
        account,
        deps.region,
        session_id,
        values=stored.item_values(),
        previous_batches=memory.batches,
        now=arrival,
    )
    if not saved:
        # Another invocation stored a newer state while this one ran: retry from that state (the
        # actions queued above carry the same ids on the retry, so the executor ignores repeats).
        raise TransientError(f"command-watch state of {session_id} moved on during the batch; retrying")
    result.state_saved = True
    if flush:
        result.output_touched = _flush(deps, account, session_id, stored)
    return result


def _flush(deps: Dependencies, account: str, session_id: str, memory: WatchMemory) -> bool:
    """The session item brought up to date with the stored watch (see ``watch_state``)."""
    return deps.store.flush_watch(
        account,
        deps.region,
        session_id,
        batches=memory.batches or 0,
        commands=memory.commands,
        findings=memory.findings,
        output_at=memory.output_at,
    )


def _first_claim(events: EventLines) -> Claim | None:
    return next((c for c in events.claims if c is not None), None)


def _not_a_session_log(
    batch: SessionLogBatch, expected: str, deps: Dependencies, arrival: datetime, result: BatchResult
) -> BatchResult:
    """A payload from a log group that is not the account's session-log group: judged against no
    one, reported (log and an account-level alert)."""
    result.status = "not_a_session_log"
    result.known_session = False
    deps.report(
        "not a session log: payload from a log group that is not the session-log group",
        {"log_group": batch.log_group, "expected": expected, "owner": batch.owner},
    )
    policy_state = deps.policy()
    settings = effective_settings(policy_state.policy.policy, SessionFacts(account=batch.owner))
    action = log_alerts.foreign_group_alert(
        account=batch.owner,
        region=deps.region,
        log_group=batch.log_group,
        expected=expected,
        stream=batch.log_stream,
        settings=settings,
        policy=policy_state.policy,
        now=arrival,
    )
    deps.sink.submit([action])
    result.actions = 1
    return result


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
    """Judge every command and output line; decide actions (``now`` is the log event's time, so a
    retried batch makes the same decisions and the same audit records; the caller clamps it to the
    arrival plus the clock skew). Exemptions are checked at ``exemption_at`` (the arrival)."""
    times: dict[str, int] = {}  # event id -> its time, made when the first finding needs it
    first = events.timestamps[0] if events.timestamps else 0
    decisions = Decisions()
    by_severity: Counter[str] = Counter()
    count = 0

    def decide(findings: list[Finding], event_id: str, source_id: str, alert_only: bool = False) -> None:
        nonlocal count
        if not times:
            times.update(zip(events.event_ids, events.timestamps, strict=True))
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
                exemption_at=exemption_at,
            )
        )

    for command in extracted.commands:
        # Every reading of the line (a soft wrap at an unknown width gives several); a command the
        # terminal model is not sure ran, or a finding on a variant reading only, is alerted, never
        # terminated (transcript.confidence).
        for text in command.texts:
            findings = detector.judge_command(text, command.shell)
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


__all__ = [
    "BatchResult",
    "Dependencies",
    "Judged",
    "SessionStore",
    "Sink",
    "judge_extracted",
    "process_subscription",
    "role_arn_of",
    "session_context",
]
