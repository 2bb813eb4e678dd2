"""What reading a Windows command produced: the commands it runs, and the text it builds.

Both readers (PowerShell and cmd) fill one ``Reading``; nested shells (``powershell -enc``,
``cmd /c``, ``Invoke-Expression`` of a folded string) are read into the same one at a greater depth.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from ssm_warden.shells import Shell

MAX_DEPTH = 5  # nested shells read; deeper payloads are reported by the rule that sees the nesting
MAX_COMMANDS = 400  # commands kept per judged text (a pasted script of thousands is cut, then flagged)


class Command(NamedTuple):
    """One program or cmdlet the text runs, with its arguments as that program receives them.

    A named tuple (immutable like a frozen dataclass, built several times cheaper: thousands are
    built per second of judging).
    """

    program: str  # canonical: lower case, no path, no .exe, aliases resolved
    args: tuple[str, ...]
    shell: Shell
    pipeline: int  # commands of one pipeline share this number
    depth: int  # 0 typed; 1+ read out of an encoded command, a cmd /c, an IEX of a string …
    via: str = "typed"

    @property
    def line(self) -> str:
        """``program arg arg`` lower-cased: the unit most rules read."""
        return " ".join((self.program, *self.args)).lower()


@dataclass(slots=True)
class Reading:
    commands: list[Command] = field(default_factory=list)
    # Method calls seen: ``net.webclient.downloadstring``, ``convert.frombase64string`` …
    calls: list[str] = field(default_factory=list)
    # Texts read (as typed, then every payload decoded) and strings folding built, lower-cased.
    texts: list[str] = field(default_factory=list)
    decoded: list[str] = field(default_factory=list)  # payloads decoded from -EncodedCommand
    # How the text hid what it runs: "built-name" (a command name made by folding), "ticked-name",
    # "caret" (c^e^r^t in cmd), "env-substring" (%COMSPEC:~0,1%); "built-exec" when a hidden name
    # turned out to run a string as code.
    obfuscation: list[str] = field(default_factory=list)
    nesting: int = 0  # deepest nested shell read
    truncated: bool = False
    _pipeline: int = 0

    def next_pipeline(self) -> int:
        self._pipeline += 1
        return self._pipeline

    def add(self, command: Command) -> None:
        if len(self.commands) >= MAX_COMMANDS:
            self.truncated = True
            return
        self.commands.append(command)
        self.nesting = max(self.nesting, command.depth)
