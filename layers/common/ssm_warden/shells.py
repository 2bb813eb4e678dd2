"""The shells a session's commands are read in. The terminal model tags every command it extracts
with the shell whose prompt it followed; the detector reads the command with that shell's parser."""

from __future__ import annotations

from typing import Literal

Shell = Literal["posix", "powershell", "cmd"]
SHELLS: tuple[Shell, ...] = ("posix", "powershell", "cmd")
