"""What a terminal line shows, and whether the shell still wants more input (pure)."""

from __future__ import annotations

import pytest

from ssm_warden.transcript.prompts import switches_shell
from ssm_warden.transcript.shell import scan_posix, scan_powershell
from ssm_warden.transcript.terminal import screen_text, split_text


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("abc\b \bd", "abd"),  # erase with backspace-space-backspace, then retype
        ("rm -rf /tmpx^H", "rm -rf /tmpx^H"),  # a caret is text (the extractor adds the erased reading)
        ("sudo\x7f\x7fdo", "sudodo"),  # DEL shows nothing and moves nothing on a terminal
        ("echo hi\x1b[K", "echo hi"),  # erase to end of line
        ("abcdef\x1b[3D\x1b[K", "abc"),  # cursor left three, erase the rest
        ("abc\x1b[2D\x1b[P", "ac"),  # delete a character in the middle
        ("\x1b]0;ubuntu@web-1: ~\x07ubuntu@web-1:~$ ls", "ubuntu@web-1:~$ ls"),  # OSC window title
        ("\x1b[?2004h\x1b[200~pasted\x1b[201~", "pasted"),  # bracketed paste mode and markers
        ("\x1b[01;32mgreen\x1b[00m", "green"),  # colours
        ("progress 10%\rprogress 99%", "progress 99%"),  # carriage return redraws the line
        ("a\tb", "a b"),
        ("grep ^Host f", "grep ^Host f"),  # a caret after a space is a regex anchor, not ^H
        ("plain text", "plain text"),
    ],
)
def test_screen_text(raw: str, shown: str) -> None:
    assert screen_text(raw) == shown


def test_split_text_handles_crlf_and_a_missing_final_newline() -> None:
    assert split_text("a\r\nb\r\n") == ["a\r", "b\r"]  # the \r is a control: screen_text drops it
    assert [screen_text(x) for x in split_text("a\r\nb")] == ["a", "b"]


@pytest.mark.parametrize(
    ("command", "complete"),
    [
        ("ls -la", True),
        ("echo 'abc", False),
        ('echo "a\nb"', True),
        ("curl x \\", False),
        ("curl x |", False),
        ("make && ", False),
        ("sleep 9 &", True),
        ("a || b", True),
        ("for i in 1 2; do", False),
        ("for i in 1 2; do\necho $i\ndone", True),
        ("if true; then", False),
        ("f() {", False),
        ("f() {\n echo\n}", True),
        ("echo ${HOME}", True),
        ("echo # ( not code", True),
        ("case $x in a) echo;; esac", True),
        ("(cd /tmp", False),
        ("echo $(date", False),
        ("ls | grep if", True),
    ],
)
def test_posix_completeness(command: str, complete: bool) -> None:
    assert scan_posix(command).complete is complete


def test_heredocs_found_in_order_with_their_options() -> None:
    scan = scan_posix("cat <<EOF <<-'END' > x")
    assert [(h.delimiter, h.strip_tabs) for h in scan.heredocs] == [("EOF", False), ("END", True)]
    assert scan_posix('cat <<< "here-string"').heredocs == []


@pytest.mark.parametrize(
    ("command", "complete"),
    [
        ("Get-Process", True),
        ("Get-Process |", False),
        ("foreach ($x in $y) {", False),
        ('Write-Host "a', False),
        ("Get-Item `", False),
        ("@'\nbody\n'@", True),
    ],
)
def test_powershell_completeness(command: str, complete: bool) -> None:
    assert scan_powershell(command) is complete


@pytest.mark.parametrize(
    ("command", "switches"),
    [
        ("sudo su -", True),
        ("sudo -i", True),
        ("su - app", True),
        ("bash", True),
        ("exec zsh", True),
        ("docker exec -it web sh", True),
        ("ssh bastion", True),
        ("bash deploy.sh", False),
        ("sh -c 'id'", False),
        ("sudo systemctl restart nginx", False),
        ("ls", False),
    ],
)
def test_commands_that_start_a_new_shell(command: str, switches: bool) -> None:
    assert switches_shell(command) is switches
