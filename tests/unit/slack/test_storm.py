"""Storm decisions: pure functions of the counters."""

from __future__ import annotations

from datetime import timedelta

from ssm_warden.models.actions import ActionKind
from ssm_warden.models.findings import Severity
from ssm_warden.slack.storm import (
    Counter,
    StormPolicy,
    budget_exempt,
    decide_budget,
    decide_fold,
    foldable,
    storm_keys,
)
from tests.unit.slack.factories import NOW, action

POLICY = StormPolicy(fold_window_seconds=300, channel_budget_per_minute=3, webhook_report_at=(10, 100))


def test_the_first_hit_of_a_window_is_posted() -> None:
    assert decide_fold(Counter(n=1), can_update=True, policy=POLICY).kind == "post"
    assert decide_fold(Counter(n=1), can_update=False, policy=POLICY).kind == "post"


def test_with_a_bot_token_repeats_update_the_earlier_message() -> None:
    decision = decide_fold(Counter(n=4, ts="1.2", channel="C1"), can_update=True, policy=POLICY)
    assert (decision.kind, decision.count) == ("update", 4)


def test_a_repeat_racing_the_first_post_is_counted_not_posted() -> None:
    assert decide_fold(Counter(n=2), can_update=True, policy=POLICY).kind == "hold"


def test_with_a_webhook_repeats_are_held_and_reported_at_thresholds() -> None:
    kinds = [decide_fold(Counter(n=n), can_update=False, policy=POLICY).kind for n in range(2, 102)]
    assert kinds.count("report") == 2  # at 10 and 100
    assert kinds[10 - 2] == "report" and kinds[100 - 2] == "report"
    assert set(kinds) == {"hold", "report"}


def test_the_budget_posts_then_gives_notice_once_then_holds() -> None:
    verdicts = [decide_budget(n, exempt=False, policy=POLICY) for n in range(1, 7)]
    assert verdicts == ["post", "post", "post", "notice", "hold", "hold"]


def test_terminations_failures_and_critical_alerts_are_never_held() -> None:
    assert decide_budget(99, exempt=True, policy=POLICY) == "post"
    assert budget_exempt(action(), "terminated") and budget_exempt(action(), "failed")
    assert budget_exempt(action(severity=Severity.CRITICAL), "alert_only")
    assert not budget_exempt(action(severity=Severity.HIGH), "alert_only")


def test_terminations_are_never_folded_but_monitor_mode_repeats_are() -> None:
    assert not foldable(action(kind=ActionKind.TERMINATE), "terminated")
    assert not foldable(action(kind=ActionKind.TERMINATE), "failed")
    assert foldable(action(kind=ActionKind.TERMINATE), "would_terminate")
    assert foldable(action(), "alert_only")


def test_keys_group_by_session_rule_and_window() -> None:
    a = action()
    same_window = storm_keys(a, "#alerts", NOW + timedelta(seconds=10), POLICY)
    here = storm_keys(a, "#alerts", NOW, POLICY)
    later = storm_keys(a, "#alerts", NOW + timedelta(minutes=5), POLICY)
    other_rule = storm_keys(action(rule="other.rule"), "#alerts", NOW, POLICY)
    assert here.fold == same_window.fold
    assert later.fold != here.fold and later.previous_fold == here.fold
    assert other_rule.fold != here.fold
    assert here.fold.startswith("storm#fold#123456789012#us-east-1#alice-0e34861185201706f#")
    assert here.budget.startswith("storm#budget#")
    assert here.fold_expires_at > NOW.timestamp() and here.budget_expires_at > NOW.timestamp()
