"""What line editors (readline, zle) and ttys leave in a line, read back. Pure."""

from __future__ import annotations

from ssm_warden.transcript.terminal import INPUT_READY


def caret_erased(text: str) -> str:
    """``text`` with each ``^H``/``^?`` erasing the character before it (a tty echoing the erase
    key as a caret: ECHOCTL without ECHOE)."""
    out: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith(("^H", "^?"), i):
            if out:
                out.pop()
            i += 2
            continue
        out.append(text[i])
        i += 1
    return "".join(out)


def zle_at_column_0(raw: str, text: str) -> str:
    """zsh's line editor echoes the first key of a line typed at column 0 (an empty PS2), goes back
    with CR and redraws the line: once the agent has deleted the CR, the first character shows
    twice (``eecho``)."""
    if "\r" not in raw and INPUT_READY in raw and len(text) >= 2 and text[0] == text[1] and "\x1b=" in raw:
        return text[1:]
    return text


def zle_unaccepted(raw: str) -> bool:
    """A zsh line-editor line that ends before zle accepted it (no ``ESC[?2004l`` after it started
    reading): a completion listing or a redraw comes next, not a run."""
    start = raw.rfind(INPUT_READY)
    return start >= 0 and "\x1b=" in raw and "\x1b[?2004l" not in raw[start:]


def zsh_interrupted(raw: str) -> bool:
    """zsh's line editor leaves keypad mode (``ESC[?1l``) when it accepts a line, not when Ctrl-C
    interrupts it: a raw zle line that ends without it was cancelled."""
    start = raw.rfind(INPUT_READY)
    if start < 0 or "\x1b=" not in raw:
        return False
    tail = raw[start:]
    return tail.rstrip("\r").endswith("\x1b[?2004l") and "\x1b[?1l" not in tail


def zle_pasting(raw: str, *, anywhere: bool = False) -> bool:
    """zle shows pasted text in reverse video: after it started reading the line (or anywhere,
    for the further lines of the paste)."""
    start = 0 if anywhere else raw.rfind(INPUT_READY)
    return start >= 0 and "\x1b[7m" in raw[start:]


def zle_first_key_twice(text: str) -> str:
    """The line typed at column 0 after a redraw: zle echoed its first key, went back with CR and
    redrew it; once the agent deleted the CR, the first character shows twice."""
    return text[1:] if len(text) >= 2 and text[0] == text[1] else text
