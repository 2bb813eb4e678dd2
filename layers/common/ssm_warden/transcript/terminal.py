"""What a terminal line shows once its control characters have done their work. Pure.

Streamed session data has ANSI codes stripped and ``\\r`` removed by the agent, but backspaces may
survive; plain-text transcripts (made by ``script``) keep everything: colours, window titles
(OSC), bracketed-paste markers, readline's cursor moves and erases. ``screen_text`` replays the few
controls that change what the line says and drops the rest:

- ``\\b`` and CSI ``n D`` move the cursor left, CSI ``n C`` right; printing overwrites at the cursor
  (so readline's "move left, retype the tail" edits come out as the command that ran);
- a caret is text: ``^H`` typed or echoed (ECHOCTL) is two characters, never an erase; BEL and DEL
  show nothing;
- readline's soft wrap at the right margin (a space, then ``\\r``, then more of the line) joins
  the two rows again; any other ``\\r`` returns to the start of the line;
- CSI ``K`` erases to the end of the line, CSI ``n P``
  deletes and CSI ``n @`` inserts characters at the cursor;
- every other escape sequence (SGR colours, OSC titles, ``ESC [ ? 2004 h``, ...) and the remaining
  C0 controls are dropped; a tab is kept as a space.
"""

from __future__ import annotations

import re

# A CSI sequence, an OSC string (ended by BEL or ST), or any other two-character escape.
_ESCAPE = re.compile(
    r"\x1b\[(?P<params>[0-?]*)[ -/]*(?P<final>[@-~])"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\|$)"
    r"|\x1b[P^_X][^\x1b]*(?:\x1b\\|$)"
    r"|\x1b[ -/]*[0-~]?"
)
# Anything that makes a line need the slow path: C0 controls but tab, DEL, ESC.
_NEEDS_WORK = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_TOKENS = re.compile(
    r"(?P<esc>\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\|$)|\x1b[P^_X][^\x1b]*(?:\x1b\\|$)"
    r"|\x1b[ -/]*[0-~]?)"
    r"|(?P<ctl>[\x00-\x1f\x7f])"
    r"|(?P<text>[^\x00-\x1f\x7f]+)"
)


def _count(params: str) -> int:
    head = params.split(";", 1)[0]
    return int(head) if head.isdigit() and int(head) > 0 else 1


def screen_text(raw: str) -> str:
    """The text a terminal would show for one line of output (see the module docstring)."""
    if raw.isprintable():  # the common case, in C: nothing to replay
        return raw
    if not _NEEDS_WORK.search(raw):
        return raw.replace("\t", " ") if "\t" in raw else raw
    buf: list[str] = []
    cur = 0
    row = 0  # where the current screen row starts in ``buf`` (after a soft wrap)
    tokens = list(_TOKENS.finditer(raw))
    last_text = ""
    for k, m in enumerate(tokens):
        kind = m.lastgroup
        tok = m.group()
        if kind == "text":
            end = cur + len(tok)
            if cur == len(buf):
                buf.extend(tok)
            else:
                if end > len(buf):
                    buf.extend(" " * (end - len(buf)))
                buf[cur:end] = tok
            cur = end
            last_text = tok
            continue
        if kind == "ctl":
            if tok == "\b":
                cur = max(row, cur - 1)
            elif tok == "\r":
                if last_text.endswith(" ") and cur >= 20 and _more_text(tokens, k + 1):
                    # readline/zle at the right margin: a space (taking the new row), then CR
                    del buf[cur - 1]
                    cur -= 1
                    row = cur
                else:
                    cur = row
            elif tok == "\t":
                buf[cur:cur] = " "
                cur += 1
        else:
            cur = _apply_escape(tok, buf, cur)
        last_text = ""
    return "".join(buf).rstrip()


def _more_text(tokens: list[re.Match[str]], start: int) -> bool:
    """Whether printable text follows before the line ends (so a CR is not the line's end)."""
    for m in tokens[start:]:
        if m.lastgroup == "text":
            return True
        if m.group() == "\r":
            return False
    return False


def _apply_escape(tok: str, buf: list[str], cur: int) -> int:
    m = _ESCAPE.fullmatch(tok)
    if m is None or m.group("final") is None:
        return cur  # OSC, DCS, two-character escapes: no effect on the text
    params, final = m.group("params"), m.group("final")
    if params.startswith("?"):
        return cur  # private modes (bracketed paste, cursor visibility)
    if final == "D":
        return max(0, cur - _count(params))
    if final == "C":
        target = cur + _count(params)
        if target > len(buf):
            buf.extend(" " * (target - len(buf)))
        return target
    if final == "K":
        mode = params or "0"
        if mode == "0":
            del buf[cur:]
        elif mode == "1":
            buf[:cur] = " " * min(cur, len(buf))
        else:
            buf.clear()
            buf.extend(" " * cur)
    elif final == "P":
        del buf[cur : cur + _count(params)]
    elif final == "@":
        buf[cur:cur] = " " * _count(params)
    elif final == "G":  # cursor to column n (1-based)
        return max(0, _count(params) - 1)
    return cur


# zsh's PROMPT_SP: the end-of-line mark (``%``, ``#`` for root), COLUMNS-1 spaces and ``\r \r``:
# once the agent has deleted the ``\r``, the mark and COLUMNS spaces before the prompt.
_PROMPT_SP = re.compile(r"[%#] {19,}(?=[^ ])")


def without_prompt_sp(line: str) -> tuple[str, int | None]:
    """``line`` without zsh's PROMPT_SP padding, and the terminal width the padding shows."""
    m = _PROMPT_SP.match(line)
    if m is None:
        return line, None
    return line[m.end() :], m.end() - 1


INPUT_READY = "\x1b[?2004h"  # readline/zle turn bracketed paste on when they start reading a line


def split_text(text: str) -> list[str]:
    """The lines of a plain-text transcript chunk (``\\r\\n`` or ``\\n`` endings)."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines
