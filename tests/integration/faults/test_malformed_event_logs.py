"""A malformed CloudTrail event is logged by its identifiers and the problem, never by its content:
request parameters carry the reason and, for command sessions, the command (and what people paste
into them)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from ssm_warden.handlers import session_events
from tests.conftest import load_event
from tests.integration.faults.conftest import FaultRow, Pipeline

Row = Callable[[str, str], FaultRow]
SECRET = "hunter2-AKIAIOSFODNN7EXAMPLE-reason"


def hostile_events() -> list[dict[str, Any]]:
    good = load_event("start_session_shell.json")
    # No session id: rejected by the ledger, with a reason and command beside it
    no_session = copy.deepcopy(good)
    no_session["detail"]["responseElements"] = None
    no_session["detail"]["requestParameters"]["reason"] = SECRET
    no_session["detail"]["requestParameters"]["parameters"] = {"command": [f"echo {SECRET}"]}
    # A reason that is not text: fails validation deep inside the ledger's parsing
    odd_reason = copy.deepcopy(good)
    odd_reason["detail"]["requestParameters"]["reason"] = {"text": SECRET}
    # A time that is not a time, a secret in the user agent
    bad_time = copy.deepcopy(good)
    bad_time["detail"]["eventTime"] = SECRET
    return [no_session, odd_reason, bad_time]


class Recorder:
    """Stands in for the handler module's Powertools logger: every line with its extra fields."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __getattr__(self, level: str) -> Any:
        def log(message: str, *args: Any, extra: dict[str, Any] | None = None, **kwargs: Any) -> None:
            self.lines.append(json.dumps({"level": level, "message": message, **(extra or {})}, default=str))

        return log


def test_malformed_events_are_logged_by_identifiers_not_content(
    pipeline: Pipeline, fault_row: Row, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = fault_row("Malformed CloudTrail event logged", "3 broken events carrying a reason/command")
    recorder = Recorder()
    monkeypatch.setattr(session_events, "logger", lambda: recorder)
    statuses = [pipeline.deliver(event)["status"] for event in hostile_events()]
    logged = "\n".join(recorder.lines)
    leaked = SECRET in logged
    row.observe(delivered=statuses == ["rejected"] * 3, isolated=not leaked)
    # Then each was rejected without raising, and the log names the event and the problem only
    assert statuses == ["rejected"] * 3
    assert logged.count("malformed session event skipped") == 3
    assert "8217f18e-a892-42b6-91c8-1d42b571d440" in logged  # the event id, to find it in CloudTrail
    assert not leaked
    assert "detail_fields" in logged
