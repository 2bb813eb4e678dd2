"""``make demo`` end to end: the scripted morning through the real handlers on the local stack, run
in-process through the demo's own entry point."""

from __future__ import annotations

import io
import re
from pathlib import Path

from ssm_warden_local.demo import beyond_scenarios, main, windows_scenarios
from ssm_warden_local.demo.scenarios import SCENARIOS as CONSOLE_SCENARIOS

SCENARIOS = [*CONSOLE_SCENARIOS, *windows_scenarios.SCENARIOS, *beyond_scenarios.SCENARIOS]


def test_the_demo_plays_the_morning_and_every_scenario_turns_out_as_expected(tmp_path: Path) -> None:
    # Given a fresh local stack (the demo starts its own moto server and Slack sink)
    out = io.StringIO()
    html = tmp_path / "slack.html"
    # When the demo runs
    code = main(["--html", str(html), "--log", str(tmp_path / "functions.log")], out=out)
    # Then it exits 0, having checked every scenario, and says so
    text = out.getvalue()
    assert code == 0, text
    assert f"{len(SCENARIOS)} of {len(SCENARIOS)} scenarios behaved as expected." in text
    assert "[FAIL]" not in text
    for scenario in SCENARIOS:
        assert f"[PASS] {scenario.title}" in text
    # And the timeline shows the decisions as they happened
    assert re.search(r"ssm-warden\s+terminate \[download-pipe-to-shell, high\]", text)
    assert re.search(r"ssm-warden\s+would terminate \(monitor mode\) \[download-pipe-to-shell", text)
    assert "closed in the ledger" in text
    # And the Slack page shows the messages the sink received
    page = html.read_text()
    assert "#prod-security" in page
    assert "would terminate" in page
    # And it ends with the day-2 commands on the morning it played, and a replay page
    assert "$ ssm-warden sessions" in text and "active session(s)" in text
    assert "$ ssm-warden status" in text and "queue actions-dlq" in text
    replay = tmp_path / "replay.html"
    page = replay.read_text()
    # (the session with the most findings: its commands and the decisions taken on them)
    assert "ssm-warden replay:" in page and "finding by ssm-warden" in page
