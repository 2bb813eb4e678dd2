"""Real shell sessions recorded through the agent model (``python -m ssm_warden_local.recorder``),
with the commands each shell really ran: the extractor finds them, in every input form, and judges
nothing that did not run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ssm_warden.cli.scan import read_file
from ssm_warden.transcript.extract import Extractor
from ssm_warden.transcript.terminal import split_text
from ssm_warden_local import agent_model
from ssm_warden_local import transcript_eval as te

RECORDINGS = te.recordings(programs=False)  # the program sessions: test_program_recordings
NAMES = [r.name for r in RECORDINGS]
ALL = te.recordings()  # with the program sessions (vim, less, python3, tmux...)
ALL_NAMES = [r.name for r in ALL]


def test_there_are_recordings_of_every_shell_and_prompt_kind() -> None:
    groups = {r.group for r in RECORDINGS}
    assert {"bash-as-sh", "bash-osc-prompt", "dash", "zsh-prompt-sp", "zsh-theme"} <= groups
    assert all(r.ran for r in RECORDINGS)


@pytest.mark.parametrize("form", te.FORMS)
def test_in_every_form_nineteen_in_twenty_commands_are_found_and_none_made_up(form: str) -> None:
    # Given every recorded session in this input form
    total = te.Score()
    for rec in RECORDINGS:
        # When its commands are extracted as that form arrives
        score = te.score(rec, te.extract_form(rec, form))
        # Then no command that did not run is judged, and no screen output is taken for one
        assert score.never_ran == [], f"{rec.name} ({form}): judged but never ran: {score.never_ran}"
        total.add(score)
    # And at least 95% of the commands the shells ran are found
    assert total.recall >= 0.95, f"{form}: found {total.recall:.3f}; missed {total.missed}"


@pytest.mark.parametrize("name", NAMES)
def test_each_shell_and_prompt_generalises(name: str) -> None:
    rec = next(r for r in RECORDINGS if r.name == name)
    for form in te.FORMS:
        score = te.score(rec, te.extract_form(rec, form))
        assert score.recall >= 0.9, f"{name} ({form}) missed {score.missed}"


@pytest.mark.parametrize("name", ALL_NAMES)
def test_scan_and_the_live_path_agree_on_the_same_session(name: str, tmp_path: Path) -> None:
    # Given a recorded session's streamed events, exported as CloudWatch Logs JSON lines
    rec = next(r for r in ALL if r.name == name)
    calls = te.stream_calls(rec)
    export = tmp_path / f"{name}.jsonl"
    with export.open("w") as out:
        for events in calls:
            for event in events:
                message = json.dumps({"sessionId": name, "sessionData": event})
                out.write(json.dumps({"logStreamName": name, "message": message}) + "\n")
    # When ssm-warden scan reads the export, and the live path gets the calls one by one
    [(_session, events, _facts)] = read_file(export)
    scanner = Extractor()
    for n, lines in enumerate(events):
        scanner.feed(str(n), lines)
    live = te.extract_invocations(calls)
    # Then both find the same commands, with the same confidence
    assert [(c.text, c.confidence) for c in scanner.result.commands] == [
        (c.text, c.confidence) for c in live.commands
    ]


@pytest.mark.parametrize("name", ALL_NAMES)
def test_scan_of_the_s3_log_and_the_live_path_of_its_plain_events_agree(name: str, tmp_path: Path) -> None:
    # Given a recorded session's end-of-session transcript, as an S3 object and as CloudWatch events
    rec = next(r for r in ALL if r.name == name)
    transcript = agent_model.script_transcript(rec.raw)
    log = tmp_path / f"{name}.log"
    log.write_bytes(transcript)
    # When ssm-warden scan reads the S3 object, and the live path gets the non-streamed events
    [(_session, events, _facts)] = read_file(log)
    scanner = Extractor()
    for n, lines in enumerate(events):
        scanner.feed(str(n), lines)
    scanner.flush()
    live = te.extract_invocations([[split_text(m)] for m in agent_model.plain_events(transcript)])
    # Then they find the same commands
    assert [c.text for c in scanner.result.commands] == [c.text for c in live.commands]
