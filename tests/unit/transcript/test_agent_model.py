"""The sandbox's model of the SSM agent's line handling (aws-facts §6)."""

from __future__ import annotations

from ssm_warden_local import agent_model


def lines(raw: bytes) -> list[str]:
    return [line for event in agent_model.stream_events([raw]) for line in event]


def test_strip_removes_csi_without_its_effect_and_keeps_c0_controls() -> None:
    # readline's insert (ESC[1@) and cursor move (ESC[C) are lost; BS and BEL stay
    assert lines(b"ab\x1b[1@c\x1b[Cd\x08\x07e\x1b[01;32mok\x1b[0m\r\n") == ["abcd\x08\x07eok"]


def test_a_line_strip_rejects_is_sent_raw_colours_and_all() -> None:
    # An OSC title ended by BEL (Amazon Linux's and Ubuntu's bash prompts), ESC(B, ESC=, ESC7
    for esc in (b"\x1b]0;ssm-user@host:~\x07", b"\x1b(B", b"\x1b=", b"\x1b7"):
        raw = esc + b"\x1b[01;32m[ssm-user@host ~]$\x1b[0m id\r\n"
        assert lines(raw) == [(esc + b"\x1b[01;32m[ssm-user@host ~]$\x1b[0m id").decode()]
    # An OSC ended by ST is stripped like any sequence
    assert lines(b"\x1b]0;title\x1b\\$ id\r\n") == ["$ id"]


def test_characters_holding_a_c1_byte_become_u_fffd_others_survive() -> None:
    assert lines("➜  ~ id\r\n".encode()) == ["\ufffd  ~ id"]
    assert lines("\u276f id\r\n".encode()) == ["\ufffd\ufffd id"]
    assert lines("λ id é\r\n".encode()) == ["λ id é"]
    # ... but a raw line (Strip failed) keeps them intact
    assert lines("\x1b=➜  ~ id\r\n".encode()) == ["\x1b=➜  ~ id"]


def test_tabs_become_one_space_and_every_cr_is_deleted() -> None:
    assert lines(b"a\tb\rc\r\n") == ["a bc"]


def test_only_complete_lines_leave_and_a_long_line_is_cut_at_33000_bytes() -> None:
    agent = agent_model.AgentStream()
    agent.feed(b"done\r\n$ exi")
    assert agent.tick() == [["done"]]
    agent.feed(b"x" * 70_000 + b"\r\n")
    events = agent.tick()
    # the line begins with the "$ exi" left over: 70,005 bytes, in three events
    assert [len(e[0]) for e in events] == [33_000, 33_000, 4_005]
    assert len(agent.tick()) == 0


def test_at_most_four_events_per_call() -> None:
    agent = agent_model.AgentStream()
    agent.feed((b"y" * 32_990 + b"\n") * 6)
    assert len(agent.tick()) == 4
    assert len(agent.tick()) == 2


def test_the_s3_transcript_is_script_output_with_its_header_footer_and_cr_cr_lf() -> None:
    text = agent_model.script_transcript(b"$ id\r\nuid=0\r\n").decode()
    assert text.startswith("Script started on ") and "Script done on " in text
    assert "$ id\r\r\n" in text
    [message] = agent_model.plain_events(agent_model.script_transcript(b"$ id\r\nuid=0\r\n"))
    assert "$ id\r\nuid=0\r\n" in message
