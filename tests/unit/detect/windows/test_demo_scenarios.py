"""The Windows demo sessions: what they type is what the Windows rules catch, and they join the
morning only when the command watch judges Windows commands."""

from __future__ import annotations

from typing import Any

import pytest

from ssm_warden.detect.windows import windows_detector
from ssm_warden.transcript.extract import extract_lines
from ssm_warden_local.demo import windows_scenarios as ws
from ssm_warden_local.demo.scenarios import HOSTS, MORNING, SCENARIOS, Output


def _typed(key: str) -> list[str]:
    lines = [
        line for s in ws.MORNING if isinstance(s.do, Output) and s.do.scenario == key for line in s.do.lines
    ]
    return [c.text for c in extract_lines(lines).commands]


def test_the_prod_session_runs_a_download_cradle_that_terminates() -> None:
    detector = windows_detector(("default",))
    rules = {f.rule: f for c in _typed("win-iwr-iex") for f in detector.judge_command(c, "powershell")}
    assert rules["win-download-cradle"].severity.rank >= 3  # high or critical: prod terminates


def test_the_dev_session_clears_the_security_log_at_a_cmd_prompt() -> None:
    typed = _typed("win-wevtutil")
    assert "wevtutil cl Security" in typed
    found = windows_detector(("default",)).judge_command("wevtutil cl Security", "cmd")
    assert [f.rule for f in found] == ["win-event-log-cleared"]


def test_left_out_while_the_detector_cannot_tell_windows_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ws, "windows_judged", lambda: False)
    hosts, morning, scenarios, why = ws.with_windows(HOSTS, MORNING, SCENARIOS)
    assert (hosts, morning, scenarios) == (HOSTS, MORNING, SCENARIOS)
    assert why is not None


def test_added_in_time_order_once_windows_commands_are_judged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ws, "windows_judged", lambda: True)
    hosts, morning, scenarios, why = ws.with_windows(HOSTS, MORNING, SCENARIOS)
    assert why is None
    assert {"prod-win-1", "dev-win-1"} <= set(hosts)
    assert [s.seconds for s in morning] == sorted(s.seconds for s in morning)
    assert {s.key for s in scenarios} >= {"win-iwr-iex", "win-wevtutil"}


def test_windows_judged_asks_the_real_detector(monkeypatch: pytest.MonkeyPatch) -> None:
    class Shell:
        def judge_command(self, command: str, shell: str | None = None) -> list[Any]:
            return windows_detector(("default",)).judge_command(command, "cmd") if shell else []

    class NoShell:
        def judge_command(self, command: str) -> list[Any]:
            return []

    import ssm_warden.detect.detector as detector_module

    monkeypatch.setattr(detector_module, "get_detector", lambda packs=None: Shell())
    assert ws.windows_judged() is True
    monkeypatch.setattr(detector_module, "get_detector", lambda packs=None: NoShell())
    assert ws.windows_judged() is False
