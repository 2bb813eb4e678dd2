"""Alert storms: fold repeats, and keep one noisy session from hiding another's alerts.

* **Folding.** Repeats of the same rule in the same session within a window (5 minutes) become one
  message with a count. The message keeps the **first** occurrence (its command is the evidence; a
  later, harmless-looking repeat must not replace it) and lists the distinct command texts folded
  into it (redacted, up to ``max_fold_commands``). With a bot token the earlier message is updated
  (a count "xN"); with a webhook the repeats are held back and counted, and the count is posted at
  10, 100, 1,000 repeats and with the first alert of the next window.
* **Budgets.** Per minute, at most N alerts per session, M per principal, and L per channel; alerts
  about no session (tamper, policy, denied attempts) have their own budget per channel, so neither
  kind crowds out the other. The alert that crosses a budget is replaced by a notice ("alerts of
  session X held back until hh:mm"); held-back alerts are counted, and the first alert of a later
  minute is preceded by a report of how many were held. The **first alert of a session**,
  terminations (and "would terminate"), failures and critical alerts are never held back (they still
  count), so a session spraying alerts spends its own budget, not anyone else's.

The decisions are pure functions of counters; the counters live in the sessions table (items with
``pk = storm#...`` and a TTL in ``expires_at``), written only with atomic ``ADD``s, never read-modify-
write. ``StormCounters`` is the protocol; ``MemoryStormCounters`` serves the unit tests.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal, Protocol

from ssm_warden.clients import aws_client
from ssm_warden.config import get_settings
from ssm_warden.ledger.keys import session_key
from ssm_warden.models.actions import ActionKind, ActionRequest
from ssm_warden.models.findings import Severity
from ssm_warden.slack._aws import aws_errors

NO_SESSION = "-"


@dataclass(frozen=True)
class StormPolicy:
    fold_window_seconds: int = 300
    channel_budget_per_minute: int = 20
    session_budget_per_minute: int = 5
    principal_budget_per_minute: int = 10
    account_budget_per_minute: int = 10  # alerts about no session (tamper, policy, denied attempts)
    max_fold_commands: int = 10  # distinct command texts listed in a folded message
    first_seen_ttl_seconds: int = 3 * 86_400
    # With a webhook (no updates), the folded count is posted when it reaches one of these.
    webhook_report_at: tuple[int, ...] = (10, 100, 1000, 10_000)
    held_ttl_seconds: int = 86_400


@dataclass(frozen=True)
class Counter:
    """A storm item: ``n`` counts hits, ``held`` counts alerts held back and not yet reported."""

    n: int = 0
    held: int = 0
    ts: str | None = None  # fold items: the message the repeats fold into
    channel: str | None = None
    first: str | None = None  # fold items: the first occurrence (an ActionRequest, JSON, redacted)
    commands: tuple[str, ...] = ()  # fold items: distinct command texts (redacted), sorted


class StormCounters(Protocol):
    def add(self, key: str, *, n: int = 0, held: int = 0, expires_at: int) -> Counter:
        """Atomically add to the counters of ``key``; return the item as it is after the add."""
        ...

    def read(self, key: str) -> Counter: ...

    def remember_message(self, key: str, *, channel: str, ts: str, expires_at: int) -> None:
        """Record the message that later repeats fold into (the first one recorded stays)."""
        ...

    def remember_first(self, key: str, *, first: str, expires_at: int) -> None:
        """Record the first occurrence of a fold window (the first one recorded stays)."""
        ...

    def add_command(self, key: str, *, command: str, limit: int, expires_at: int) -> None:
        """Add a distinct command text to a fold item, unless it already holds ``limit`` of them."""
        ...


@dataclass(frozen=True)
class StormKeys:
    fold: str
    previous_fold: str
    fold_expires_at: int
    budget: str  # the channel's, for alerts about a session
    budget_expires_at: int
    account_budget: str  # the channel's, for alerts about no session
    session_budget: str | None
    principal_budget: str | None
    first_seen: str | None  # counts a session's alerts: the first is never held back
    first_seen_expires_at: int
    held: str
    held_expires_at: int
    minute: datetime  # start of the current minute


def _epoch(now: datetime) -> int:
    return int(now.timestamp())


def storm_keys(action: ActionRequest, channel: str, now: datetime, policy: StormPolicy) -> StormKeys:
    s = action.session
    account_level = s is None or s.session_id == NO_SESSION
    session = NO_SESSION if account_level or s is None else session_key(s.account, s.region, s.session_id)
    principal = None if account_level or s is None or not s.principal_arn else s.principal_arn[:300]
    rule = action.rule_or_limit[:200]
    epoch = _epoch(now)
    window = policy.fold_window_seconds
    bucket = epoch // window
    minute = epoch // 60
    return StormKeys(
        fold=f"storm#fold#{session}#{rule}#{bucket}",
        previous_fold=f"storm#fold#{session}#{rule}#{bucket - 1}",
        fold_expires_at=(bucket + 2) * window + 60,
        budget=f"storm#budget#{channel}#{minute}",
        budget_expires_at=(minute + 3) * 60,
        account_budget=f"storm#abudget#{channel}#{minute}",
        session_budget=None if account_level else f"storm#sbudget#{session}#{minute}",
        principal_budget=f"storm#pbudget#{principal}#{minute}" if principal else None,
        first_seen=None if account_level else f"storm#seen#{session}",
        first_seen_expires_at=epoch + policy.first_seen_ttl_seconds,
        held=f"storm#held#{channel}",
        held_expires_at=epoch + policy.held_ttl_seconds,
        minute=datetime.fromtimestamp(minute * 60, tz=now.tzinfo),
    )


def foldable(action: ActionRequest, outcome: str) -> bool:
    """Terminations and failures are events of their own: never folded into an earlier message."""
    return outcome not in ("terminated", "failed")


def budget_exempt(action: ActionRequest, outcome: str) -> bool:
    """Alerts that end (or would end) a session, failures and critical alerts are never held back."""
    return (
        outcome in ("terminated", "would_terminate", "failed")
        or action.kind is ActionKind.TERMINATE
        or action.severity is Severity.CRITICAL
    )


FoldKind = Literal["post", "update", "hold", "report"]


@dataclass(frozen=True)
class FoldDecision:
    kind: FoldKind
    count: int


def decide_fold(counter: Counter, *, can_update: bool, policy: StormPolicy) -> FoldDecision:
    """What to do with a hit whose fold counter is now ``counter``.

    ``post``: the first in its window. ``update``: rewrite the earlier message with the count (bot).
    ``report``: post the alert with its count (webhook, at a report threshold). ``hold``: count only.
    """
    if counter.n <= 1:
        return FoldDecision("post", 1)
    if can_update:
        if counter.ts and counter.channel:
            return FoldDecision("update", counter.n)
        return FoldDecision("hold", counter.n)  # the first message is still being posted
    if counter.n in policy.webhook_report_at:
        return FoldDecision("report", counter.n)
    return FoldDecision("hold", counter.n)


BudgetKind = Literal["post", "notice", "hold"]


def decide_budget(count: int, *, exempt: bool, policy: StormPolicy, budget: int | None = None) -> BudgetKind:
    """``count``: alerts this minute under one budget (default: the channel's), this one included."""
    budget = policy.channel_budget_per_minute if budget is None else budget
    if exempt or count <= budget:
        return "post"
    if count == budget + 1:
        return "notice"
    return "hold"


class MemoryStormCounters:
    """Counters in a dict (unit tests, local runs)."""

    def __init__(self) -> None:
        self.items: dict[str, Counter] = {}
        self._lock = threading.Lock()

    def add(self, key: str, *, n: int = 0, held: int = 0, expires_at: int) -> Counter:
        with self._lock:
            c = self.items.get(key, Counter())
            c = replace(c, n=c.n + n, held=c.held + held)
            self.items[key] = c
            return c

    def read(self, key: str) -> Counter:
        return self.items.get(key, Counter())

    def remember_message(self, key: str, *, channel: str, ts: str, expires_at: int) -> None:
        with self._lock:
            c = self.items.get(key, Counter())
            if c.ts is None:
                self.items[key] = replace(c, ts=ts, channel=channel)

    def remember_first(self, key: str, *, first: str, expires_at: int) -> None:
        with self._lock:
            c = self.items.get(key, Counter())
            if c.first is None:
                self.items[key] = replace(c, first=first)

    def add_command(self, key: str, *, command: str, limit: int, expires_at: int) -> None:
        with self._lock:
            c = self.items.get(key, Counter())
            if command not in c.commands and len(c.commands) < limit:
                self.items[key] = replace(c, commands=tuple(sorted({*c.commands, command})))


def _counter(item: dict[str, dict[str, str]] | None) -> Counter:
    if not item:
        return Counter()
    return Counter(
        n=int(item.get("n", {}).get("N", "0")),
        held=int(item.get("held", {}).get("N", "0")),
        ts=item.get("ts", {}).get("S"),
        channel=item.get("channel", {}).get("S"),
        first=item.get("first", {}).get("S"),
        commands=tuple(sorted(item.get("cmds", {}).get("SS", []))),
    )


_NAMES = {"#n": "n", "#h": "held", "#e": "expires_at"}


class DynamoStormCounters:
    """Storm items in the sessions table: ``pk = storm#...``, TTL attribute ``expires_at``."""

    def __init__(self, table: str | None = None) -> None:
        self._table = table or get_settings().sessions_table

    def add(self, key: str, *, n: int = 0, held: int = 0, expires_at: int) -> Counter:
        with aws_errors("storm counter update"):
            response = aws_client("dynamodb").update_item(
                TableName=self._table,
                Key={"pk": {"S": key}},
                UpdateExpression="ADD #n :n, #h :h SET #e = if_not_exists(#e, :e)",
                ExpressionAttributeNames=_NAMES,
                ExpressionAttributeValues={
                    ":n": {"N": str(n)},
                    ":h": {"N": str(held)},
                    ":e": {"N": str(expires_at)},
                },
                ReturnValues="ALL_NEW",
            )
        return _counter(response.get("Attributes"))

    def read(self, key: str) -> Counter:
        with aws_errors("storm counter read"):
            item = aws_client("dynamodb").get_item(TableName=self._table, Key={"pk": {"S": key}}).get("Item")
        return _counter(item)

    def remember_message(self, key: str, *, channel: str, ts: str, expires_at: int) -> None:
        client = aws_client("dynamodb")
        try:
            with aws_errors("storm message record"):
                client.update_item(
                    TableName=self._table,
                    Key={"pk": {"S": key}},
                    UpdateExpression="SET #t = :t, #c = :c, #e = if_not_exists(#e, :e)",
                    ConditionExpression="attribute_not_exists(#t)",
                    ExpressionAttributeNames={"#t": "ts", "#c": "channel", "#e": "expires_at"},
                    ExpressionAttributeValues={
                        ":t": {"S": ts},
                        ":c": {"S": channel},
                        ":e": {"N": str(expires_at)},
                    },
                )
        except client.exceptions.ConditionalCheckFailedException:
            return

    def remember_first(self, key: str, *, first: str, expires_at: int) -> None:
        self._set_once(key, "first", first, expires_at, "storm first occurrence record")

    def add_command(self, key: str, *, command: str, limit: int, expires_at: int) -> None:
        client = aws_client("dynamodb")
        try:
            with aws_errors("storm fold command record"):
                client.update_item(
                    TableName=self._table,
                    Key={"pk": {"S": key}},
                    UpdateExpression="ADD #c :c SET #e = if_not_exists(#e, :e)",
                    ConditionExpression=(
                        "attribute_not_exists(#c) OR (size(#c) < :max AND NOT contains(#c, :one))"
                    ),
                    ExpressionAttributeNames={"#c": "cmds", "#e": "expires_at"},
                    ExpressionAttributeValues={
                        ":c": {"SS": [command]},
                        ":one": {"S": command},
                        ":max": {"N": str(limit)},
                        ":e": {"N": str(expires_at)},
                    },
                )
        except client.exceptions.ConditionalCheckFailedException:
            return

    def _set_once(self, key: str, attribute: str, value: str, expires_at: int, what: str) -> None:
        client = aws_client("dynamodb")
        try:
            with aws_errors(what):
                client.update_item(
                    TableName=self._table,
                    Key={"pk": {"S": key}},
                    UpdateExpression="SET #a = :v, #e = if_not_exists(#e, :e)",
                    ConditionExpression="attribute_not_exists(#a)",
                    ExpressionAttributeNames={"#a": attribute, "#e": "expires_at"},
                    ExpressionAttributeValues={":v": {"S": value}, ":e": {"N": str(expires_at)}},
                )
        except client.exceptions.ConditionalCheckFailedException:
            return
