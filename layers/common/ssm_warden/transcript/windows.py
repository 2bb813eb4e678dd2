"""How PowerShell and cmd.exe sessions change what their terminal shows (aws-facts §8). Pure.

A Windows prompt shows the current location and nothing else that varies (``PS C:\\inetpub> ``,
``C:\\Windows\\Temp>``), so its shape is kept **literal**: a ``PS C:\\> `` line in the output of a
``Get-Content`` is not the prompt of a session standing in ``C:\\Users\\ssm-user``. The location
changes only by a command (``cd``, ``Set-Location``, ``pushd``, ``D:``...): after one, the next
line of the shell's own prompt form is learned as the new prompt. A nested shell is started by
``cmd``/``cmd /k``, ``powershell``/``pwsh`` without a command to run (``-NoExit`` keeps one), or
``Enter-PSSession``.
"""

from __future__ import annotations

import re

from ssm_warden.shells import Shell

# A prompt of each shell, as the shell prints it (the location in it may hold spaces).
POWERSHELL_PROMPT = re.compile(
    r"(?:\[[\w.-]{1,253}\]: )?PS (?:[A-Za-z]:\\|/|\\\\|[A-Za-z][\w.]*::?)[^>\n]{0,400}> "
)
CMD_PROMPT = re.compile(r"(?:[A-Za-z]:\\|\\\\)[^>\n]{0,400}>")
CMD_CONTINUATION = re.compile(r"More\? ")  # cmd's prompt after a line ending with ``^``

_EXE = re.compile(r"\.exe$", re.I)
# PowerShell parameters (any unambiguous prefix works; these are the usual spellings) that give
# it something to run and exit after, and the one that keeps it open after running it.
_PS_RUNS = frozenset({"-c", "-command", "-f", "-file", "-e", "-ec", "-enc", "-encodedcommand"})
# fmt: off
_PS_VALUED = frozenset({
    "-executionpolicy", "-ep", "-ex", "-exec", "-windowstyle", "-w", "-version", "-v",
    "-configurationname", "-outputformat", "-of", "-inputformat", "-if", "-workingdirectory", "-wd",
})
# fmt: on
_LOCATION_WORDS = frozenset(
    {"cd", "cd..", "cd\\", "chdir", "sl", "set-location", "pushd", "push-location", "popd", "pop-location"}
)
_DRIVE = re.compile(r"^[A-Za-z]:$")
# Commands that print files, logs or pages: what they show may hold anything, prompts included.
_DUMPERS = frozenset(
    {
        "get-content",
        "gc",
        "type",
        "cat",
        "more",
        "select-string",
        "sls",
        "findstr",
        "find",
        "get-history",
        "h",
        "history",
        "get-winevent",
        "get-eventlog",
        "format-hex",
        "fhx",
        "import-csv",
        "invoke-webrequest",
        "iwr",
        "invoke-restmethod",
        "irm",
        "curl",
        "wget",
        "get-help",
        "help",
        "man",
        "git",
        "aws",
        "docker",
        "kubectl",
    }
)


def shape(prompt: str) -> str:
    """The shape of a Windows prompt: the prompt itself (its location changes only by a command)."""
    return re.escape(prompt)


def known_prompt(line: str, shell: Shell) -> str | None:
    """The prompt of ``shell``'s own form that ``line`` starts with, or None."""
    pattern = POWERSHELL_PROMPT if shell == "powershell" else CMD_PROMPT
    m = pattern.match(line)
    return m.group() if m else None


def is_prompt(text: str) -> bool:
    """Whether ``text`` is a whole prompt of PowerShell's or cmd's own form."""
    return known_prompt(text, "powershell") == text or known_prompt(text, "cmd") == text


def _name(word: str) -> str:
    return _EXE.sub("", word.rsplit("\\", 1)[-1].rsplit("/", 1)[-1].lower())


def started_shell(command: str) -> Shell | None:
    """The Windows shell an interactive ``command`` starts (``cmd``, ``cmd /k ver``, ``powershell
    -NoProfile``, ``pwsh -NoExit -c ...``, ``Enter-PSSession web01``), or None (``cmd /c dir``,
    ``powershell -File x.ps1``, ``powershell Get-Date``)."""
    words = command.strip().lstrip("&").split()
    if not words:
        return None
    name = _name(words[0].strip("'\""))
    args = [w.lower() for w in words[1:]]
    if name == "cmd":
        for arg in args:
            if arg in ("/c", "/r") or arg.startswith(("/c ", "/r ")):
                return None
            if arg == "/k":
                return "cmd"
            if not arg.startswith("/"):
                return None  # ``cmd x``: not how an interactive cmd is started
        return "cmd"
    if name in ("powershell", "pwsh"):
        return "powershell" if _powershell_stays(args) else None
    if name in ("enter-pssession", "etsn"):
        return "powershell"
    return None


def _powershell_stays(args: list[str]) -> bool:
    keeps = any(a in ("-noexit", "-noe") for a in args)
    k = 0
    while k < len(args):
        arg = args[k]
        if arg in _PS_RUNS:
            return keeps
        if not arg.startswith(("-", "/")):
            return keeps  # a command to run: ``powershell Get-Date``
        k += 2 if arg in _PS_VALUED else 1
    return True


def changes_location(command: str) -> bool:
    """Whether ``command`` may change the location a Windows prompt shows."""
    words = command.split()
    if not words:
        return False
    first = words[0].lower()
    return first in _LOCATION_WORDS or _DRIVE.match(first) is not None or first.startswith("cd\\")


def prints_text(command: str) -> bool:
    """Whether ``command`` prints files, logs or pages (its last pipeline stage does: ``iwr ... |
    iex`` prints nothing of the page, ``gc x | sls y`` prints lines of the file)."""
    if ";" in command or "&&" in command:
        return False  # ``gc x; cd C:\app``: what else runs may change the location
    words = command.rsplit("|", 1)[-1].split()
    return bool(words) and _name(words[0]) in _DUMPERS


def join_cmd(lines: list[str]) -> str:
    """The command cmd.exe runs from lines continued with a trailing ``^`` (removed with the break)."""
    out = lines[0]
    for line in lines[1:]:
        out = out[:-1] + line if out.endswith("^") else out + "\n" + line
    return out


_COMMAND_START = re.compile(r"[A-Za-z0-9_.\\&$(\[@'\"-]")


def plausible_command(text: str) -> bool:
    """Could ``text`` be typed at a Windows prompt? (cmdlets start with a capital: ``Get-Process``)"""
    return _COMMAND_START.match(text) is not None
