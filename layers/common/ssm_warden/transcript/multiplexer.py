"""What tmux and screen put on the terminal around the inner shell's own lines. Pure.

Inside a multiplexer the terminal shows the multiplexer's redraw of its panes, not the inner
shell's output. Seen in real tmux sessions through the agent (``prog_bash_tmux``):

- the status line (``[rec] 0:bash* 1:bash-  "host" 22:52 01-Dec-26`` by default) is redrawn on the
  last row whenever something changes, then the cursor goes back into the pane with a cursor
  position (``ESC [ row ; col H``); the agent's Strip fails on tmux's ``ESC ( B``, so the line
  reaches us raw, with that position: what follows it is pane text at that row and column;
- typed input is echoed at the column after the prompt that was drawn on an earlier line
  (``ESC [ 17 ; 23 H echo x``): the prompt and the command arrive on different lines;
- a window switch redraws the whole pane: old prompt lines are shown again;
- on exit the client prints ``[exited]`` (``[detached (from session x)]``, ``[lost server]``,
  ``[server exited]``, ``[terminated]``; screen: ``[screen is terminating]``).
"""

from __future__ import annotations

import re

from ssm_warden.transcript.terminal import screen_text

# tmux's default status-left and window list: ``[session] 0:name* 1:name-`` (flags *-#!~MZ).
STATUS = re.compile(r"\[[^\]\s]{1,64}\] (?:\d+:[^\s]{0,64}[*\-#!~MZ]{0,3} {0,2})+")
# What follows the window list in the default status-right: ``"title" HH:MM DD-Mon-YY``.
_STATUS_RIGHT = re.compile(r' *"[^"\n]{0,128}" \d\d:\d\d \d\d-\w{3}-\d\d')
_MOVE = re.compile(r"\x1b\[(\d*)(?:;(\d*))?[Hf]|\x1b\[(\d*)d")
ENDED = (
    "[exited]",
    "[detached",
    "[lost server]",
    "[server exited]",
    "[terminated]",
    "[screen is terminating]",
)


def ended(text: str) -> bool:
    """The multiplexer's client has exited or detached: the outer shell's terminal again."""
    tail = text.rstrip()[-48:]
    return any(marker in tail for marker in ENDED)


def pane_text(raw: str, text: str) -> tuple[str, int] | None:
    """For a line that holds the status line (``text`` is its cleaned form): the row of the pane
    the cursor was left on, as the line's cursor positions drew it (text drawn at a row and
    column, each piece where it was put), and the column (1-based) the row's text starts at;
    None for a line without a status line. A line the agent stripped (no cursor position left)
    gives what follows the status line, at column 0 (unknown)."""
    statuses = list(STATUS.finditer(text))
    if not statuses:
        return None
    moves = list(_MOVE.finditer(raw))
    if not moves:
        rest = text[statuses[-1].end() :]
        right = _STATUS_RIGHT.match(rest)
        return (rest[right.end() :] if right else rest), 0
    rows: dict[int, dict[int, str]] = {}
    row, col = 0, 1  # the text before the first move: a row of its own
    ends = [m.start() for m in moves[1:]] + [len(raw)]
    for m, end in zip([None, *moves], [moves[0].start(), *ends], strict=True):
        if m is not None:
            if m.group(3) is not None:
                row = int(m.group(3) or 1)
            else:
                row, col = int(m.group(1) or 1), int(m.group(2) or 1)
        start = m.end() if m is not None else 0
        cells = rows.setdefault(row, {})
        for ch in screen_text(raw[start:end]):
            cells[col] = ch
            col += 1
    cells = rows.get(row, {})
    if not cells:
        return "", 1
    first = min(cells)
    shown = "".join(cells.get(c, " ") for c in range(first, max(cells) + 1))
    return ("" if STATUS.search(shown) else shown), first
