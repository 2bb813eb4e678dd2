"""How sure the terminal model is that a command ran, and what that allows. Pure.

- ``high``: after the session's own current prompt, learned from the stream (or a common shape the
  session confirmed), where the shell was waiting for input;
- ``medium``: the shell probably ran it, but the screen leaves room for doubt: a prompt-like line
  printed right after a command that shows files or logs (``cat``, ``git log``), a command read
  from a program's prompt (``>>> os.system(...)``) or run from vim's ``:!`` or less's ``!``, a
  command inside tmux joined from input drawn after a prompt row seen earlier, a line seen only
  as a completion redraw, a long line read at a guessed terminal width;
- ``low``: after a prompt that changed with no shell-starting or ``PS1=`` command to explain it,
  or a first-guess prompt the session never confirmed.

Only a ``high`` command may end a session; the others are alerted, with the reason.
"""

from __future__ import annotations

from ssm_warden.transcript.model import Command

LEVELS = ("low", "medium", "high")


def allows_termination(command: Command, text: str | None = None) -> bool:
    """May a finding on ``command`` (on its reading ``text``, when given) end the session?
    Not when the command is not of high confidence, and not when only a variant reading of it
    (a guessed terminal width) was flagged."""
    if command.confidence != "high":
        return False
    return text is None or text == command.text


def why_not(command: Command) -> str:
    """The reason to give when a finding on ``command`` is only alerted."""
    return f"command recognised with {command.confidence} confidence ({command.how}): alert only"


def lower(a: str, b: str) -> str:
    return a if LEVELS.index(a) <= LEVELS.index(b) else b
