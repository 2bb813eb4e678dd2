"""The local EventBridge matcher: the pattern subset template.yaml uses, and the template's own rules
against the sample CloudTrail events (so the demo routes events the way AWS would)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ssm_warden_local.demo.patterns import UnsupportedPatternError, matches, matching_rules
from ssm_warden_local.resources import event_patterns
from tests.conftest import load_event

SESSION_CALLS = {
    "source": ["aws.ssm"],
    "detail-type": ["AWS API Call via CloudTrail"],
    "detail": {
        "eventSource": ["ssm.amazonaws.com"],
        "eventName": ["StartSession", "ResumeSession", "TerminateSession"],
    },
}


def event(**detail: Any) -> dict[str, Any]:
    return {"source": "aws.ssm", "detail-type": "AWS API Call via CloudTrail", "detail": detail}


def test_an_event_with_one_of_the_listed_values_at_every_key_matches() -> None:
    # Given a TerminateSession call from ssm
    call = event(eventSource="ssm.amazonaws.com", eventName="TerminateSession", extra={"ignored": 1})
    # Then the session-calls pattern matches it (keys the pattern does not name are ignored)
    assert matches(SESSION_CALLS, call)


@pytest.mark.parametrize(
    "change",
    [
        {"source": "aws.ec2"},  # another source
        {"detail-type": "AWS Console Sign In via CloudTrail"},
        {"detail": {"eventSource": "ssm.amazonaws.com", "eventName": "SendCommand"}},  # another call
        {"detail": {"eventSource": "ssm.amazonaws.com", "eventName": "startsession"}},  # case matters
        {"detail": {"eventName": "StartSession"}},  # eventSource missing
        {"detail": "StartSession"},  # not an object where the pattern nests
    ],
)
def test_an_event_that_differs_at_any_named_key_does_not_match(change: dict[str, Any]) -> None:
    # Given a session call changed at one key the pattern names
    call = event(eventSource="ssm.amazonaws.com", eventName="StartSession")
    call.update(change)
    # Then it does not match
    assert not matches(SESSION_CALLS, call)


def test_a_list_value_in_the_event_matches_when_any_element_does() -> None:
    assert matches({"resources": ["arn:b"]}, {"resources": ["arn:a", "arn:b"]})
    assert not matches({"resources": ["arn:c"]}, {"resources": ["arn:a", "arn:b"]})


def test_plain_values_match_exactly_by_type() -> None:
    # A number never equals its string form, and a boolean is not a number
    assert matches({"n": [5]}, {"n": 5})
    assert not matches({"n": ["5"]}, {"n": 5})
    assert not matches({"n": [1]}, {"n": True})


def test_content_filters_prefix_suffix_exists_and_anything_but() -> None:
    assert matches({"name": [{"prefix": "AWS-Start"}]}, {"name": "AWS-StartSSHSession"})
    assert not matches({"name": [{"prefix": "AWS-Start"}]}, {"name": "SSM-SessionManagerRunShell"})
    assert matches({"group": [{"suffix": "/sessions"}]}, {"group": "/aws/ssm/sessions"})
    assert matches({"errorCode": [{"exists": True}]}, {"errorCode": "AccessDenied"})
    assert not matches({"errorCode": [{"exists": True}]}, {})
    assert matches({"errorCode": [{"exists": False}]}, {})
    assert not matches({"errorCode": [{"exists": False}]}, {"errorCode": "AccessDenied"})
    assert matches({"eventName": [{"anything-but": ["ResumeSession"]}]}, {"eventName": "StartSession"})
    assert not matches({"eventName": [{"anything-but": "ResumeSession"}]}, {"eventName": "ResumeSession"})


def test_a_filter_the_matcher_does_not_know_is_refused_not_guessed() -> None:
    with pytest.raises(UnsupportedPatternError):
        matches({"port": [{"numeric": [">", 0]}]}, {"port": 22})


def test_the_templates_rules_route_session_calls_and_tamper_signals_apart() -> None:
    # Given the EventBridge rules of template.yaml
    patterns = event_patterns()
    # When the sample session events and a tamper-relevant call are matched against them
    start = load_event("start_session_shell.json")
    denied = load_event("start_session_denied.json")
    terminate = load_event("terminate_session_by_warden.json")
    tamper = copy.deepcopy(start)
    tamper["source"] = "aws.logs"
    tamper["detail"]["eventSource"] = "logs.amazonaws.com"
    tamper["detail"]["eventName"] = "DeleteSubscriptionFilter"
    unrelated = copy.deepcopy(start)
    unrelated["detail"]["eventName"] = "SendCommand"
    # Then each goes to the rule meant for it, and an unrelated call to none
    assert matching_rules(patterns, start) == ["SessionEventsFunction.SessionApiCalls"]
    assert matching_rules(patterns, denied) == ["SessionEventsFunction.SessionApiCalls"]
    assert matching_rules(patterns, terminate) == ["SessionEventsFunction.SessionApiCalls"]
    assert matching_rules(patterns, tamper) == ["SessionEventsFunction.TamperSignals"]
    assert matching_rules(patterns, unrelated) == []
