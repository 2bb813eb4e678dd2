"""Context that changes what a command means: printing a path is not reading it, a dry run or a
help page changes nothing. Pure functions of the normalised views."""

from __future__ import annotations

from ssm_warden.detect.facts import derive
from ssm_warden.detect.shell.views import Normalized

_PRINTERS = frozenset({"echo", "printf", ":", "true"})
# Where printed text may go and still only be shown (not run, not written, not sent).
_VIEWERS = frozenset(
    {"grep", "egrep", "wc", "head", "tail", "less", "more", "cat", "sort", "uniq", "cut", "tr"}
)


def inert(views: Normalized) -> bool:
    """True when every program the text runs only prints, or runs with a dry-run or help flag."""
    if not views.execs or views.coarse or views.truncated:
        return False
    if any("=" in s.text.split(" ", 1)[0] for s in views.segments):  # HISTFILE=… and the like act
        return False
    execs, _ = derive(views.execs)
    for e in execs:
        if e.dry_run or e.help:
            continue
        acts = bool(e.writes or e.appends)
        if e.name in _PRINTERS and not acts and all(n in _VIEWERS for n in e.pipe_to):
            continue
        fed = e.pipe_from and all(n in _PRINTERS | _VIEWERS for n in e.pipe_from)
        if e.name in _VIEWERS and fed and not e.reads and not acts:
            continue
        return False
    return True
