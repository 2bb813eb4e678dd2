"""Windows transcripts as the SSM agent streams them (aws-facts §8): every command typed, in order.

The fixtures in ``tests/fixtures/windows/transcripts/`` are PowerShell transcript streams: the
header block, ``PS C:\\…>`` prompts, ``>>`` continuations, a ``cmd.exe`` started inside with its
``C:\\…>`` prompts and back, ANSI left in (clean-up is off on Windows), invocation headers and the
transcript footer of the end-of-session upload. Each ``.expected.json`` lists the commands and the
shell each was typed in, for the terminal model and the detector alike.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ssm_warden.detect.windows import windows_detector
from ssm_warden.shells import SHELLS
from ssm_warden.transcript.extract import Command, Extractor, extract_lines

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "windows" / "transcripts"
NAMES = sorted(p.stem for p in FIXTURES.glob("*.txt"))


def _load(name: str) -> tuple[list[str], list[dict[str, str]]]:
    text = (FIXTURES / f"{name}.txt").read_text(encoding="utf-8")
    expected = json.loads((FIXTURES / f"{name}.expected.json").read_text(encoding="utf-8"))
    return text.split("\n"), expected["commands"]


def _streamed(lines: list[str], per_event: int) -> list[Command]:
    extractor = Extractor()
    for n, start in enumerate(range(0, len(lines), per_event)):
        extractor.feed(f"e{n}", lines[start : start + per_event])
    extractor.flush()
    return extractor.result.commands


def _in_order(commands: list[Command]) -> list[str]:
    return [c.text for c in sorted(commands, key=lambda c: (int(c.event_id.lstrip("e") or 0), c.index))]


def test_fixtures_exist_and_name_real_shells() -> None:
    assert len(NAMES) >= 3
    for name in NAMES:
        _, expected = _load(name)
        assert expected and all(c["shell"] in SHELLS for c in expected)


@pytest.mark.parametrize("name", NAMES)
def test_the_uploaded_transcript_gives_every_command_typed(name: str) -> None:
    # Given the whole transcript (the end-of-session upload to S3, one piece)
    lines, expected = _load(name)
    # When commands are extracted
    got = [c.text for c in extract_lines(lines).commands]
    # Then every command typed is there, in order, including those typed at a cmd.exe prompt
    assert got == [c["command"] for c in expected]


@pytest.mark.parametrize("per_event", [1, 3, 7])
@pytest.mark.parametrize("name", NAMES)
def test_the_streamed_transcript_gives_the_same_commands(name: str, per_event: int) -> None:
    # Given the transcript streamed to CloudWatch in events of a few lines
    lines, expected = _load(name)
    # Then the commands are the same as in the uploaded transcript
    assert _in_order(_streamed(lines, per_event)) == [c["command"] for c in expected]


@pytest.mark.parametrize("name", NAMES)
def test_each_command_is_tagged_with_the_shell_it_was_typed_in(name: str) -> None:
    # Given the uploaded transcript and the same transcript streamed in events of a few lines
    lines, expected = _load(name)
    want = [(c["command"], c["shell"]) for c in expected]
    # Then each command carries the shell whose prompt it followed, in both
    assert [(c.text, c.shell) for c in extract_lines(lines).commands] == want
    for per_event in (1, 3, 7):
        streamed = sorted(_streamed(lines, per_event), key=lambda c: (int(c.event_id.lstrip("e")), c.index))
        assert [(c.text, c.shell) for c in streamed] == want


def test_what_is_typed_at_a_cmd_prompt_inside_powershell_is_judged() -> None:
    # Given the session where cmd.exe was started inside PowerShell
    _, expected = _load("cmd_inside_powershell")
    detector = windows_detector(("default",))
    # When each command is judged in the shell it was typed in
    rules = {f.rule for c in expected for f in detector.judge_command(c["command"], c["shell"])}  # type: ignore[arg-type]
    # Then the hive saved and the log cleared at the cmd prompt are both found
    assert {"win-hive-saved", "win-event-log-cleared"} <= rules
