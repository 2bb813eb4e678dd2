"""What the command watch works with (``Dependencies``: everything with effects, so that tests and
the bench can pass in-memory stand-ins) and what it reports (``BatchResult``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from ssm_warden.clock import utc_now
from ssm_warden.logs.payload import MalformedRecord
from ssm_warden.models.audit import AuditRecord
from ssm_warden.models.session import SessionRecord
from ssm_warden.monitor.binding import Standing
from ssm_warden.monitor.judging import BatchJudge

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ssm_warden.detect.facts import OwnNetwork
    from ssm_warden.models.actions import ActionRequest
    from ssm_warden.policy.store import PolicyState

DEFAULT_LOG_TERMINATIONS_PER_MINUTE = 5


class SessionStore(Protocol):
    """The ledger operations the command watch needs (``SessionRepository`` has them)."""

    def get_with_watch(
        self, account: str, region: str, session_id: str
    ) -> tuple[SessionRecord | None, dict[str, Any] | None, dict[str, Any] | None]: ...

    def save_watch(
        self,
        account: str,
        region: str,
        session_id: str,
        *,
        values: dict[str, Any],
        previous_batches: int | None,
        now: datetime,
    ) -> bool: ...

    def flush_watch(
        self,
        account: str,
        region: str,
        session_id: str,
        *,
        batches: int,
        commands: int,
        findings: int,
        output_at: datetime | None,
    ) -> bool: ...

    def claim_termination_slot(
        self, account: str, region: str, minute: datetime, action_id: str, cap: int
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
    # ``judging.batch_judge`` in the function: rule packs and the account's own network → the judge
    detector: Callable[[tuple[str, ...], OwnNetwork], BatchJudge]
    region: str
    force_monitor: bool = False
    report: Callable[[str, dict[str, Any]], None] = lambda message, extra: None
    clock: Callable[[], datetime] = utc_now  # when a batch arrives: the only time the watch trusts
    session_log_group: str = "/aws/ssm/sessions"
    member_log_groups: dict[str, str] = field(default_factory=dict)  # organisation mode
    log_terminations_per_minute: int = DEFAULT_LOG_TERMINATIONS_PER_MINUTE


@dataclass
class BatchResult:
    """What one invocation did (returned by the handler, logged, asserted on by tests)."""

    status: str  # processed | duplicate | control | rejected | empty | not_a_session_log
    session_id: str | None = None
    events: int = 0
    events_skipped: int = 0  # already processed (a redelivery)
    commands: int = 0
    output_lines: int = 0
    findings: Counter[str] = field(default_factory=Counter)  # by severity
    actions: int = 0
    malformed: list[MalformedRecord] = field(default_factory=list)
    known_session: bool = True
    standing: str = Standing.VERIFIED.value
    forged_events: int = 0  # refused: they claim the session but do not match it
    future_events: int = 0  # dated more than CLOCK_SKEW after their arrival
    terminations_held: int = 0  # beyond the log-driven termination cap: alerts instead
    state_saved: bool = False
    output_touched: bool = False  # the session item was brought up to date (counts, last output)

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
            "standing": self.standing,
            "forged_events": self.forged_events,
            "future_events": self.future_events,
            "terminations_held": self.terminations_held,
        }
