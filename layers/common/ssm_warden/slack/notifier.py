"""The Slack notifier: one call per action (``deliver``), one per session end (``session_ended``).

With a bot token each session gets a thread: its first alert posts the root (who, target and tags,
document, reason, console links) and replies with the alert; later findings reply in the thread;
a termination replies and updates the root; the end-of-session summary updates the root and replies.
With an incoming webhook every message stands alone and carries the session's details.

Alerts for a channel other than the thread's (a policy sending critical findings elsewhere) are
posted standalone in that channel. Storm control (``ssm_warden.slack.storm``) folds repeats and keeps
each channel under its budget.

Failures: ``TransientError`` (Slack 5xx, timeout, 429 beyond the wait the Lambda affords) propagates
so that SQS redelivers the action; counters incremented for the failed attempt are given back first
so that the redelivery is not mistaken for a repeat. Slack refusing the blocks makes the notifier send
the text alone; an unknown channel makes it use the secret's default channel.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ssm_warden.clock import utc_now
from ssm_warden.errors import ConfigError, WardenError
from ssm_warden.models.actions import ActionKind, ActionRequest, SessionRef
from ssm_warden.slack.messages import (
    DEFAULT_EXTEND_MINUTES,
    SessionSummary,
    SlackMessage,
    build_alert,
    build_budget_exceeded,
    build_budget_report,
    build_summary,
    build_thread_root,
    headline,
    truncate,
    who,
)
from ssm_warden.slack.redact import inline_code, redact
from ssm_warden.slack.storm import (
    Counter,
    MemoryStormCounters,
    StormCounters,
    StormKeys,
    StormPolicy,
    budget_exempt,
    decide_budget,
    decide_fold,
    foldable,
    storm_keys,
)
from ssm_warden.slack.threads import MemoryThreadStore, ThreadRef, ThreadStore
from ssm_warden.slack.transport import (
    BotTransport,
    ChannelError,
    InvalidMessageError,
    PostResult,
    SlackTransport,
    WebhookTransport,
)

WEBHOOK_CHANNEL = "webhook"
MAX_FOLD_COMMAND_CHARS = 300


def _redacted(action: ActionRequest) -> ActionRequest:
    """``action`` with its findings' commands redacted: what a fold item may keep."""
    findings = [f.model_copy(update={"command": redact(f.command)}) for f in action.findings]
    return action.model_copy(update={"findings": findings})


def _first_occurrence(hit: Counter) -> ActionRequest | None:
    if not hit.first:
        return None
    try:
        return ActionRequest.model_validate_json(hit.first)
    except ValueError:
        return None


@dataclass(frozen=True)
class DeliveryResult:
    channel: str | None  # channel id (bot) or name; None when nothing was sent
    ts: str | None  # the message posted or updated (bot token only)
    posted: bool  # a new message was posted for this action
    folded: bool  # the action was folded into an earlier message (updated, or counted)
    held: bool = False  # held back by the channel's per-minute budget (counted and reported later)


def _log() -> Any:
    from ssm_warden.observability import logger

    return logger()


class SlackNotifier:
    def __init__(
        self,
        transport: SlackTransport,
        *,
        default_channel: str | None = None,
        threads: ThreadStore | None = None,
        counters: StormCounters | None = None,
        policy: StormPolicy | None = None,
        interactive: bool = False,
        extend_minutes: int = DEFAULT_EXTEND_MINUTES,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.transport = transport
        self.default_channel = default_channel
        self.threads: ThreadStore = threads or MemoryThreadStore()
        self.counters: StormCounters = counters or MemoryStormCounters()
        self.policy = policy or StormPolicy()
        self.interactive = interactive
        self.extend_minutes = extend_minutes
        self.clock = clock

    # -----------------------------------------------------------------------------------------------

    def _channel_for(self, action: ActionRequest | None) -> str:
        if not self.transport.threads:
            return (action.channel if action else None) or self.default_channel or WEBHOOK_CHANNEL
        channel = (action.channel if action else None) or self.default_channel
        if not channel:
            raise ConfigError("no Slack channel: the policy chose none and the secret has no default_channel")
        return channel

    def _post(
        self, channel: str, message: SlackMessage, *, thread_ts: str | None = None, broadcast: bool = False
    ) -> PostResult:
        """Post, falling back to text alone when Slack refuses the blocks and to the default channel
        when the chosen one is unknown."""
        try:
            return self._post_once(channel, message, thread_ts=thread_ts, broadcast=broadcast)
        except ChannelError:
            if thread_ts or not self.default_channel or channel == self.default_channel:
                raise
            _log().warning("Slack channel unusable; using the default channel", extra={"channel": channel})
            return self._post_once(self.default_channel, message, thread_ts=None, broadcast=False)

    def _post_once(
        self, channel: str, message: SlackMessage, *, thread_ts: str | None, broadcast: bool
    ) -> PostResult:
        try:
            return self.transport.post(channel, message, thread_ts=thread_ts, broadcast=broadcast)
        except InvalidMessageError:
            _log().warning("Slack refused the blocks; sending the text alone")
            return self.transport.post(channel, message.text_only(), thread_ts=thread_ts, broadcast=broadcast)

    def _update(self, channel: str, ts: str, message: SlackMessage) -> None:
        try:
            self.transport.update(channel, ts, message)
        except InvalidMessageError:
            self.transport.update(channel, ts, message.text_only())

    # -----------------------------------------------------------------------------------------------

    def deliver(self, action: ActionRequest, outcome: str) -> DeliveryResult:
        """Tell Slack about ``action`` and its ``outcome`` (``terminated``, ``would_terminate``,
        ``alert_only``, ``warned``, ``failed``). Raises ``TransientError`` when a retry may help."""
        now = self.clock()
        channel = self._channel_for(action)
        keys = storm_keys(action, channel, now, self.policy)
        repeat, note, fold_hit = 1, None, None
        shown = action
        commands: tuple[str, ...] = ()

        if foldable(action, outcome):
            fold_hit = self.counters.add(keys.fold, n=1, expires_at=keys.fold_expires_at)
            commands = self._fold_commands(keys, action, fold_hit)
            decision = decide_fold(fold_hit, can_update=self.transport.threads, policy=self.policy)
            shown = _first_occurrence(fold_hit) or action
            if decision.kind == "update" and fold_hit.ts and fold_hit.channel:
                message = self._alert(
                    shown,
                    outcome,
                    repeat=decision.count,
                    in_thread=self._in_thread(action),
                    fold_commands=commands,
                )
                try:
                    self._update(fold_hit.channel, fold_hit.ts, message)
                except WardenError:
                    self._give_back([(keys.fold, keys.fold_expires_at)])
                    raise
                return DeliveryResult(fold_hit.channel, fold_hit.ts, posted=False, folded=True)
            if decision.kind == "hold":
                self.counters.add(keys.fold, held=1, expires_at=keys.fold_expires_at)
                return DeliveryResult(None, None, posted=False, folded=True)
            if decision.kind == "report":
                repeat = decision.count
            elif not self.transport.threads:
                note = self._previous_window_note(keys)
        folded = [(keys.fold, keys.fold_expires_at)] if fold_hit is not None else []

        counted: list[tuple[str, int]] = []
        try:
            verdict, budget, what, first_of_minute = self._spend_budgets(action, outcome, keys, counted)
            if first_of_minute:
                self._report_held(channel, keys)
            if verdict != "post":
                # The next repeat is then the first of its window again, posted if the budget allows.
                self._give_back(folded)
                if verdict == "notice":
                    self._post(channel, build_budget_exceeded(budget, keys.minute, what))
                self.counters.add(keys.held, n=1, expires_at=keys.held_expires_at)
                return DeliveryResult(None, None, posted=False, folded=False, held=True)
            result = self._post_alert(
                shown if repeat > 1 else action,
                outcome,
                channel,
                now,
                repeat=repeat,
                note=note,
                fold_commands=commands,
            )
        except WardenError:
            self._give_back(folded + counted)
            raise

        if fold_hit is not None and repeat == 1:
            self.counters.remember_first(
                keys.fold, first=_redacted(action).model_dump_json(), expires_at=keys.fold_expires_at
            )
        if fold_hit is not None and result.ts:
            self.counters.remember_message(
                keys.fold, channel=result.channel, ts=result.ts, expires_at=keys.fold_expires_at
            )
        if repeat > 1 and fold_hit is not None and fold_hit.held:
            self.counters.add(keys.fold, held=-fold_hit.held, expires_at=keys.fold_expires_at)
        return DeliveryResult(result.channel, result.ts, posted=True, folded=repeat > 1)

    def _spend_budgets(
        self, action: ActionRequest, outcome: str, keys: StormKeys, counted: list[tuple[str, int]]
    ) -> tuple[str, int, str, bool]:
        """Count this alert against its budgets, narrowest first; stop at the first one exceeded.

        Returns (verdict, that budget, whose budget in words, whether this is the channel's first alert
        of the minute). ``counted`` receives every key counted, so that a failed post gives them back."""

        def hit(key: str, expires_at: int) -> int:
            n = self.counters.add(key, n=1, expires_at=expires_at).n
            counted.append((key, expires_at))
            return n

        def once(verdict: str, key: str) -> str:
            # One notice per budget and minute, even when exempt alerts pushed the count past it.
            if verdict == "post":
                return verdict
            return (
                "notice"
                if self.counters.add(f"{key}#notice", n=1, expires_at=keys.budget_expires_at).n == 1
                else "hold"
            )

        exempt = budget_exempt(action, outcome)
        p = self.policy
        if keys.session_budget is None:  # about no session: the account-level alerts' own budget
            n = hit(keys.account_budget, keys.budget_expires_at)
            verdict = once(
                decide_budget(n, exempt=exempt, policy=p, budget=p.account_budget_per_minute),
                keys.account_budget,
            )
            return verdict, p.account_budget_per_minute, "about no session in this channel", n == 1
        if keys.first_seen is not None and hit(keys.first_seen, keys.first_seen_expires_at) == 1:
            exempt = True  # a session's first alert is always posted
        session = action.session
        budgets: list[tuple[str | None, int, str]] = [
            (
                keys.session_budget,
                p.session_budget_per_minute,
                f"from session {inline_code(session.session_id if session else '-')}",
            ),
            (
                keys.principal_budget,
                p.principal_budget_per_minute,
                f"from {inline_code(who(session.principal_arn if session else None))}",
            ),
        ]
        for key, budget, what in budgets:
            if key is None:
                continue
            verdict = once(
                decide_budget(hit(key, keys.budget_expires_at), exempt=exempt, policy=p, budget=budget), key
            )
            if verdict != "post":
                return verdict, budget, what, False
        n = hit(keys.budget, keys.budget_expires_at)
        verdict = once(decide_budget(n, exempt=exempt, policy=p), keys.budget)
        return verdict, p.channel_budget_per_minute, "in this channel", n == 1

    def _fold_commands(self, keys: StormKeys, action: ActionRequest, hit: Counter) -> tuple[str, ...]:
        """The distinct command texts (redacted) of the fold window, this action's included."""
        commands = set(hit.commands)
        for finding in action.findings:
            text = truncate(redact(finding.command), MAX_FOLD_COMMAND_CHARS)
            if not text.strip() or text in commands or len(commands) >= self.policy.max_fold_commands:
                continue
            try:
                self.counters.add_command(
                    keys.fold,
                    command=text,
                    limit=self.policy.max_fold_commands,
                    expires_at=keys.fold_expires_at,
                )
            except WardenError:
                _log().warning("could not record a folded command; the audit trail has it")
                continue
            commands.add(text)
        return tuple(sorted(commands))

    def _give_back(self, counted: list[tuple[str, int]]) -> None:
        """Undo this attempt's counts so that SQS's redelivery is counted as the first, not a repeat."""
        try:
            for key, expires_at in counted:
                self.counters.add(key, n=-1, expires_at=expires_at)
        except WardenError:
            _log().warning("could not give back storm counts after a failed delivery")

    def _previous_window_note(self, keys: StormKeys) -> str | None:
        """Webhook: repeats held back in the previous window, reported with the first alert of this one."""
        previous: Counter = self.counters.read(keys.previous_fold)
        if previous.held <= 0:
            return None
        self.counters.add(keys.previous_fold, held=-previous.held, expires_at=keys.fold_expires_at)
        minutes = self.policy.fold_window_seconds // 60
        return f":repeat: +{previous.held} repeats in the previous {minutes} min were not posted"

    def _report_held(self, channel: str, keys: StormKeys) -> None:
        """The first alert of a minute reports the alerts the budget held back earlier."""
        held = self.counters.read(keys.held)
        if held.n <= 0:
            return
        self._post(channel, build_budget_report(held.n, keys.minute))
        self.counters.add(keys.held, n=-held.n, expires_at=keys.held_expires_at)

    def _in_thread(self, action: ActionRequest) -> bool:
        # Account-level signals (tamper, denied attempts, policy errors) belong to no session: no thread.
        return self.transport.threads and action.session is not None and action.session.session_id != "-"

    def _alert(
        self,
        action: ActionRequest,
        outcome: str,
        *,
        repeat: int = 1,
        in_thread: bool,
        note: str | None = None,
        fold_commands: tuple[str, ...] = (),
    ) -> SlackMessage:
        return build_alert(
            action,
            outcome,
            repeat_count=repeat,
            fold_window_minutes=self.policy.fold_window_seconds // 60,
            in_thread=in_thread,
            interactive=self.interactive,
            extend_minutes=self.extend_minutes,
            note=note,
            fold_commands=fold_commands if repeat > 1 else (),
        )

    def _post_alert(
        self,
        action: ActionRequest,
        outcome: str,
        channel: str,
        now: datetime,
        *,
        repeat: int,
        note: str | None,
        fold_commands: tuple[str, ...] = (),
    ) -> PostResult:
        session = action.session
        if not self._in_thread(action) or session is None:
            return self._post(
                channel,
                self._alert(
                    action, outcome, repeat=repeat, in_thread=False, note=note, fold_commands=fold_commands
                ),
            )

        thread = self.threads.get(session)
        opened_now = False
        if thread is None:
            thread, opened_now = self._open_thread(session, action, outcome, channel, now)
        elif action.channel and action.channel not in (thread.requested, thread.channel):
            # The policy sends this alert elsewhere than the session's thread: it stands alone there.
            return self._post(
                channel,
                self._alert(
                    action, outcome, repeat=repeat, in_thread=False, note=note, fold_commands=fold_commands
                ),
            )

        broadcast = not opened_now and (outcome in ("terminated", "failed") or action.severity.rank >= 4)
        message = self._alert(
            action, outcome, repeat=repeat, in_thread=True, note=note, fold_commands=fold_commands
        )
        result = self._post(thread.channel, message, thread_ts=thread.ts, broadcast=broadcast)

        status = _root_status(action, outcome)
        if status is not None and not opened_now:
            root = build_thread_root(
                _richer(thread.session, session), headline_text=thread.headline, status=status, status_at=now
            )
            try:
                self._update(thread.channel, thread.ts, root)
            except WardenError:
                # The reply carries the news; the root's status line is a convenience.
                _log().warning("could not update the session thread's root")
        return result

    def _open_thread(
        self, session: SessionRef, action: ActionRequest, outcome: str, channel: str, now: datetime
    ) -> tuple[ThreadRef, bool]:
        head = headline(action, outcome)
        status = _root_status(action, outcome) or "active"
        root = build_thread_root(session, headline_text=head, status=status, status_at=now)
        posted = self._post(channel, root)
        if posted.ts is None:  # pragma: no cover - bot transports always return a ts
            raise WardenError("Slack returned no ts for a thread root")
        mine = ThreadRef(
            channel=posted.channel, ts=posted.ts, headline=head, requested=channel, session=session
        )
        winner = self.threads.claim(session, mine)
        if winner.ts == mine.ts:
            return winner, True
        # Another invocation opened the thread first: remove this root and post into theirs.
        try:
            self.transport.delete(posted.channel, posted.ts)
        except WardenError:
            _log().warning("could not delete a duplicate thread root")
        return winner, False

    # -----------------------------------------------------------------------------------------------

    def session_ended(
        self, session: SessionRef, summary: SessionSummary, *, always: bool = False
    ) -> DeliveryResult:
        """The end-of-session summary: updates the thread's root and replies in the thread (bot), or
        posts a standalone summary (webhook; or no thread). Sessions without findings and without a
        thread get no message unless ``always``."""
        thread = self.threads.get(session) if self.transport.threads else None
        if thread is not None:
            terminated = summary.ended_by == "ssm-warden"
            root = build_thread_root(
                _richer(thread.session, session),
                headline_text=thread.headline,
                status="terminated" if terminated else "ended",
                status_at=summary.ended_at,
                summary=summary,
            )
            self._update(thread.channel, thread.ts, root)
            result = self._post(thread.channel, build_summary(session, summary), thread_ts=thread.ts)
            return DeliveryResult(result.channel, result.ts, posted=True, folded=False)
        if summary.findings == 0 and not always:
            return DeliveryResult(None, None, posted=False, folded=False)
        channel = self._channel_for(None)
        result = self._post(channel, build_summary(session, summary, in_thread=False))
        return DeliveryResult(result.channel, result.ts, posted=True, folded=False)


def _richer(stored: SessionRef | None, given: SessionRef) -> SessionRef:
    """The session as the root first showed it, completed by what the caller knows now."""
    if stored is None:
        return given
    extra = {k: v for k, v in given.model_dump(exclude_none=True).items() if v not in ({}, [])}
    return stored.model_copy(update=extra)


def _root_status(action: ActionRequest, outcome: str) -> str | None:
    if action.kind is not ActionKind.TERMINATE:
        return None
    if outcome == "terminated":
        return "terminated"
    if outcome == "failed":
        return "termination_failed"
    return None


# ---------------------------------------------------------------------------------------------------
# Construction from the deployed configuration

_cached: tuple[Any, SlackNotifier] | None = None


def notifier_from_secret(secret: Any) -> SlackNotifier:
    """A notifier on the transports the secret allows, with DynamoDB threads and counters."""
    from ssm_warden.slack.secret import slack_api_url
    from ssm_warden.slack.storm import DynamoStormCounters
    from ssm_warden.slack.threads import DynamoThreadStore

    transport: SlackTransport
    if secret.bot_token:
        transport = BotTransport(secret.bot_token.get_secret_value(), base_url=slack_api_url())
    else:
        transport = WebhookTransport(secret.webhook_url.get_secret_value())
    return SlackNotifier(
        transport,
        default_channel=secret.default_channel,
        threads=DynamoThreadStore(),
        counters=DynamoStormCounters(),
        interactive=secret.signing_secret is not None,
    )


def default_notifier() -> SlackNotifier:
    """The notifier for this container, rebuilt when the secret (cached by Powertools) changes."""
    global _cached
    from ssm_warden.slack.secret import load_slack_secret

    secret = load_slack_secret()
    if _cached is None or _cached[0] != secret:
        _cached = (secret, notifier_from_secret(secret))
    return _cached[1]


def reset_notifier() -> None:
    global _cached
    _cached = None
