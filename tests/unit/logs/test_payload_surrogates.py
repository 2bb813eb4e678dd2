"""Lone UTF-16 surrogates in a log event's JSON strings become U+FFFD before anything reads them."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from ssm_warden.detect.detector import get_detector
from ssm_warden.encodable import encodable
from ssm_warden.logs.payload import open_subscription
from tests.unit.logs.builders import encode


def test_event_lines_show_a_lone_surrogate_as_the_replacement_character() -> None:
    message = json.dumps({"sessionId": "s-1", "sessionData": ["echo \ud800 x", "fine"]})
    payload = encode(
        {
            "messageType": "DATA_MESSAGE",
            "logGroup": "/g",
            "logStream": "s-1",
            "owner": "1",
            "logEvents": [{"id": "1", "timestamp": 1, "message": message}],
        }
    )
    lines, _ = open_subscription(payload).event_lines()
    assert lines.lines == ["echo \ufffd x", "fine"]


@settings(deadline=None)  # the first example builds the detector's parsers (slow on a busy machine)
@given(st.text())
def test_any_text_with_surrogates_is_judged_without_error(text: str) -> None:
    assert encodable(text + "\ud800").encode("utf-8")
    get_detector().judge_command(text + "\udcff")
    get_detector().judge_command(text + "\ud800", "powershell")
    get_detector().judge_output("\ud800" + text)
