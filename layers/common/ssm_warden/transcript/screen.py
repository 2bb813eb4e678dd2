"""Patterns the shell leaves on screen around a command line, read from the lines that follow it.
Pure helpers of the extractor; each takes the batch's lines and the index of a command line.

- a bracketed paste (bash >= 5.1) shows the pasted lines in reverse video, then moves the cursor up
  and prints them again: after the agent (cursor moves lost) the block appears twice;
- zsh redraws a command line after a completion listing on the listing's last row;
- bash and zsh print a history expansion (``^old^new``, ``!!``) as the line that runs;
- readline wraps a long line with a space at the right margin (kept in streams): the width is
  unknown, so every width the line allows gives a reading.
"""

from __future__ import annotations

import re
from collections.abc import Callable

MIN_WIDTH = 80  # narrower terminals are rare; every variant costs a detector run
COMMON_WIDTHS = (80, 120, 100, 132, 160, 200, 90, 110, 140, 150, 180, 220, 240)
MAX_VARIANTS = 4

_HISTORY = re.compile(
    r"^\^[^^\s]*\^|(?<![\\\w'])!(?:!|-?\d+|\$|\*|\?[^?]+\??|[A-Za-z][\w.-]*)(?::[sgh&pqx\d$^*-])?"
)


def paste_redraw(
    look: Callable[[int], str | None], raw: list[str], i: int, first: str
) -> tuple[list[str], int] | None:
    """For a command line ``i`` whose input is ``first`` (``look(j)`` gives line ``j`` cleaned,
    ``raw[j]`` as it came): when a bracketed-paste redraw follows, (the input lines of the whole
    buffer, index of its last line)."""
    if first not in "\n".join(raw[i + 2 : i + 21]):
        return None  # the cheap test: the redraw holds the first line again
    for k in range(2, 21):
        redraw = i + k
        if redraw >= len(raw):
            return None
        if first not in raw[redraw]:
            continue  # the cheap test: the redraw holds the first line again
        line = look(redraw)
        if line is None:
            return None
        if line.strip() != first:
            continue
        block = [(look(j) or "").strip() for j in range(i + 1, redraw)]
        again = [(look(j) or "").strip() for j in range(redraw + 1, redraw + k)]
        if block == again:
            last = redraw + k
            typed = (look(last) or "").strip()
            buffer = [first, *block]
            if typed:
                buffer.append(typed)
                return buffer, last
            return buffer, last - 1
    return None


def zle_paste_redraw(
    look: Callable[[int], str | None], raw: list[str], i: int, first: str
) -> tuple[list[str], int] | None:
    """zsh's redraw of a bracketed paste: the pasted lines, then one line where the cursor went up
    over them and printed them again (in a stream, the cursor moves lost: all of them run together)
    and the key typed after the paste (zle echoes it, returns with CR and redraws it: once the
    agent deletes the CR, its first character twice)."""
    if "\x1b[7m" not in raw[i][raw[i].rfind("\x1b[?2004h") :]:
        return None  # zle shows pasted text in reverse video; without it, no paste
    block = [first]
    for j in range(i + 1, i + 21):
        line = look(j)
        if line is None or j >= len(raw):
            return None
        if "\x1b[A" in raw[j] or (line.startswith("".join(block)) and len(block) > 1):
            if "\x1b[A" not in raw[j] and not line.startswith("".join(block)):
                return None
            tail_raw = raw[j].rstrip("\r")
            if "\r" in tail_raw:  # a transcript: what the last CR starts is the typed line
                typed = (look_raw(tail_raw.rsplit("\r", 1)[-1]) or "").strip()
            else:
                typed = line[len("".join(block)) :].strip()
                if len(typed) >= 2 and typed[0] == typed[1]:
                    typed = typed[1:]
            return ([*block, typed] if typed else block), j
        if "\x1b[7m" not in raw[j]:
            return None
        block.append(line.strip())
    return None


def look_raw(raw: str) -> str:
    from ssm_warden.transcript.terminal import screen_text

    return screen_text(raw)


def completion_redraw(nxt: str | None, command: str, *, cursor_up: bool = False) -> str | None:
    """zsh after a Tab listing: the next line ends with the command line, redrawn right after the
    listing (``GITLOG  README.md  repo/ls /tmp/x/READ``; in a transcript, after a cursor-up over
    the listing); the command as finally typed, or None."""
    if nxt is None or len(command) < 2:
        return None
    pos = nxt.rfind(command)
    if pos <= 0 or nxt[pos - 1] == " " or ("  " not in nxt[:pos] and not cursor_up):
        return None
    return nxt[pos:].strip()


def history_expansion(command: str) -> bool:
    """Does ``command`` hold a history expansion the shell will print before running?"""
    return ("^" in command[:1] or "!" in command) and _HISTORY.search(command) is not None


def wrap_variants(prompt_len: int, command: str, width: int | None) -> tuple[str, ...]:
    """Other readings of ``command`` (typed after a prompt of ``prompt_len`` characters) with the
    stray space of a soft wrap removed; zsh also repeats the first character of the new row."""
    line_len = prompt_len + len(command)
    if line_len <= MIN_WIDTH:
        return ()
    widths = [width] if width else [*COMMON_WIDTHS, *range(MIN_WIDTH, min(line_len, 300))]
    out: list[str] = []
    seen: set[int] = set()
    for w in widths:
        if w in seen or w >= line_len:
            continue
        seen.add(w)
        text = command
        offset = prompt_len
        ok = False
        for variant in _at_width(text, w, offset):
            if variant != command and variant not in out:
                out.append(variant)
                ok = True
        if ok and len(out) >= MAX_VARIANTS:
            break
    return tuple(out[:MAX_VARIANTS])


def _at_width(command: str, width: int, prompt_len: int) -> list[str]:
    """The command with the stray spaces at rows of ``width`` removed (and, for zsh, the
    repeated first character of each new row): [] when the line has no space at that column."""
    row_end = width - prompt_len  # index in the command of the first stray space
    if not 0 <= row_end < len(command) or command[row_end] != " ":
        return []  # the cheap test first: no space at that column
    plain = list(command)
    zsh = list(command)
    removed = 0
    while 0 <= row_end < len(command):
        if command[row_end] != " ":
            return []
        plain[row_end] = ""
        zsh[row_end] = ""
        if row_end + 2 < len(command) and command[row_end + 1] == command[row_end + 2]:
            zsh[row_end + 1] = ""
        removed += 1
        row_end += width + 1
    if not removed:
        return []
    return ["".join(plain), "".join(zsh)]


_SUBSTITUTE = re.compile(
    r":g?s(?P<d>[/|#@,])(?P<old>(?:\\.|(?!(?P=d)).)*)(?P=d)(?P<new>(?:\\.|(?!(?P=d)).)*)(?P=d)?"
)
_EXPANSION_ERRORS = (
    "event not found",
    "substitution failed",
    "bad word specifier",
    "no such event",
    "no previous",
)


def plausible_expansion(command: str, expanded: str) -> bool:
    """Is ``expanded`` (the line after ``command``) the shell's print of its history expansion?
    The parts of ``command`` outside the expansion, and the ``new`` of ``^old^new``, are in it;
    an error message is not."""
    if not expanded or expanded == command or any(e in expanded for e in _EXPANSION_ERRORS):
        return False
    if command.startswith("^"):
        parts = command.split("^")
        return len(parts) >= 3 and parts[2] in expanded
    sub = _SUBSTITUTE.search(command)
    if sub is not None:
        new = sub.group("new").replace("\\" + sub.group("d"), sub.group("d"))
        if new not in expanded:
            return False
        command = command[: sub.start()] + command[sub.end() :]
    outside = [p for p in _HISTORY.split(command) if p and p.strip()]
    return all(p.strip() in expanded for p in outside)


# readline inserting before the end of a line prints the key and the rest of the line, then moves
# back over the rest; when it moves with CSI (``ESC[5D``) the agent drops the move, and each insert
# shows as the key and a copy of the rest: ``world`` ``eworld`` ``cworld``.
_LOST_MOVES = re.compile(r"([^\x08\s][^\x08]{1,39}?)((?:[^\x08]\1)+)(?=[^\x08]|$)")


def insert_repair(raw: str) -> str | None:
    """``raw`` with the cursor moves the agent dropped put back (as backspaces), or None."""
    m = _LOST_MOVES.search(raw)
    if m is None:
        return None
    tail = m.group(1)
    back = "\b" * len(tail)
    unit = len(tail) + 1
    repeats = m.group(2)
    fixed = tail + back + "".join(repeats[k : k + unit] + back for k in range(0, len(repeats), unit))
    return raw[: m.start()] + fixed + raw[m.end() :]
