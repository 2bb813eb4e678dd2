"""What a terminal line shows once its control characters have done their work. Pure.

Streamed session data has ANSI codes stripped and ``\\r`` removed by the agent, but backspaces may
survive; plain-text transcripts (made by ``script``) keep everything: colours, window titles
(OSC), bracketed-paste markers, readline's cursor moves and erases. ``screen_text`` replays the few
controls that change what the line says and drops the rest:

- ``\\b`` and CSI ``n D`` move the cursor left, CSI ``n C`` right; printing overwrites at the cursor
  (so readline's "move left, retype the tail" edits come out as the command that ran);
- ``^H``, ``^?`` and DEL (a tty echoing an erase literally) delete the character before them; a
  caret after a space, quote, bracket or ``/`` (``grep '^Host'``, ``s/^H/``) is taken literally;
- ``\\r`` returns to the start of the line; CSI ``K`` erases to the end of the line, CSI ``n P``
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
# Anything that makes a line need the slow path: C0 controls but tab, DEL, ESC, the caret forms.
_NEEDS_WORK = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]|\^[H?]")
_TOKENS = re.compile(
    r"(?P<esc>\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\|$)|\x1b[P^_X][^\x1b]*(?:\x1b\\|$)"
    r"|\x1b[ -/]*[0-~]?)"
    r"|(?P<erase>(?<=[^\s'\"(|\[=/:,;!{])\^[H?]|\x7f)"
    r"|(?P<ctl>[\x00-\x1f])"
    r"|(?P<text>[^\x00-\x1f\x7f^]+|\^)"
)


def _count(params: str) -> int:
    head = params.split(";", 1)[0]
    return int(head) if head.isdigit() and int(head) > 0 else 1


def screen_text(raw: str) -> str:
    """The text a terminal would show for one line of output (see the module docstring)."""
    if raw.isprintable() and "^" not in raw:  # the common case, in C: nothing to replay
        return raw
    if not _NEEDS_WORK.search(raw):
        return raw.replace("\t", " ") if "\t" in raw else raw
    buf: list[str] = []
    cur = 0
    for m in _TOKENS.finditer(raw):
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
        elif kind == "erase":
            if cur > 0:
                del buf[cur - 1]
                cur -= 1
        elif kind == "ctl":
            if tok == "\b":
                cur = max(0, cur - 1)
            elif tok == "\r":
                cur = 0
            elif tok == "\t":
                buf[cur:cur] = " "
                cur += 1
        else:
            cur = _apply_escape(tok, buf, cur)
    return "".join(buf).rstrip()


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


def split_text(text: str) -> list[str]:
    """The lines of a plain-text transcript chunk (``\\r\\n`` or ``\\n`` endings)."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines
