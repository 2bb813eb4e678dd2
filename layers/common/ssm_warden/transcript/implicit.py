"""Commands that open a pager or an editor without naming it (``git log`` pages through ``less``,
``git commit`` and ``crontab -e`` open ``vi``). Pure.

Their screens take shell escapes as ``less`` and ``vim`` do (``!cmd``, ``:!cmd``): the extractor
reads them as it reads the named programs' (medium confidence), until the shell's prompt returns.
No ``unwatchable`` flag is raised for them: a pager that quits at once (``git``'s ``LESS=FRX`` on
short output) shows nothing more than the command's output.
"""

from __future__ import annotations

# git subcommands that page their output by default, and those that open an editor
_GIT_PAGED = frozenset(
    {"log", "diff", "show", "blame", "shortlog", "reflog", "grep", "branch", "tag", "help"}
)
_GIT_EDITS = frozenset({"commit", "merge", "notes"})
_NO_PAGER = frozenset({"--no-pager", "-P", "--no-edit", "-m", "-F", "--message", "--file", "-n", "-f"})
_EDITS = {
    "crontab": "-e",
    "visudo": "",
    "vipw": "",
    "vigr": "",
    "sudoedit": "",
    "edquota": "",
}


_SUDO_VALUES = frozenset({"-u", "-g", "-h", "-p", "-C", "-D", "-r", "-t", "-U"})


def _words(command: str) -> list[str]:
    """The words of ``command`` from the program it runs (``sudo -u app``, ``env X=1`` skipped)."""
    words = command.split()
    while words and (words[0] in ("command", "env", "time") or "=" in words[0]):
        words = words[1:]
    if words[:1] == ["sudo"]:
        k = 1
        while k < len(words) and words[k].startswith("-"):
            if words[k] in ("-e", "--edit"):
                return ["sudoedit"]
            k += 2 if words[k] in _SUDO_VALUES else 1
        words = words[k:]
    return words


def opened_by(command: str) -> str | None:
    """``less`` or ``vim`` when ``command`` opens that kind of program on the terminal by itself,
    or None (a pipe or a redirection takes its output away from the terminal)."""
    if "|" in command or ">" in command:
        return None
    words = _words(command)
    if not words:
        return None
    name = words[0].rsplit("/", 1)[-1]
    options = set(words[1:])
    if name == "git":
        k = 1
        while k < len(words) and words[k].startswith("-"):
            k += 2 if words[k] in ("-C", "-c", "--git-dir", "--work-tree", "--namespace") else 1
        sub = words[k] if k < len(words) else ""
        if options & _NO_PAGER and sub not in ("rebase",):
            return None
        if sub == "rebase":
            return "vim" if {"-i", "--interactive"} & options else None
        if sub in _GIT_EDITS or (sub == "tag" and {"-a", "-s"} & options):
            return "vim"
        return "less" if sub in _GIT_PAGED else None
    if name in ("journalctl", "systemctl") and "--no-pager" not in options and "-f" not in options:
        sub = next((w for w in words[1:] if not w.startswith("-")), "")
        if name == "systemctl" and sub == "edit":
            return "vim"
        if name == "journalctl" or sub in ("status", "cat", "show", "list-units", "list-unit-files"):
            return "less"
        return None
    if name in ("kubectl", "oc") and len(words) > 1 and words[1] == "edit":
        return "vim"
    if name in _EDITS and (not _EDITS[name] or _EDITS[name] in options):
        return "vim"
    return None
