"""Shell prompts: the ones common shells print by default, and the ones a session teaches us. Pure.

A line of session output that starts with a prompt is a line the person typed (after the prompt).
Known prompts are recognised outright; any other prompt (a custom ``PS1``, the bare ``$ `` of dash,
``# `` after ``sudo su``, zsh's ``host% ``, ``mysql> ``) is *learned* from the session itself and
kept as a shape: the prompt with its digit runs and paths generalised, so ``[prod] alice:/srv$ `` also matches
``[prod] alice:/etc$ `` after a ``cd``.
"""

from __future__ import annotations

import re
from functools import lru_cache

_VENV = r"(?:\([^()\s]{1,40}\) )?"  # (venv) / (base) before the prompt
_KNOWN = [
    r"(?:sh|bash|dash|ksh|zsh|mksh)-\d+(?:\.\d+)*[$#]",  # sh-4.2$   bash-5.2#
    r"\[[\w.-]+@[\w.-]+(?: [^\]\n]{0,80})?\][$#]",  # [ec2-user@ip-10-0-0-1 ~]$   [root@host ~]#
    r"[\w.-]+@[\w.-]+:[^\s$#]{0,200}[$#]",  # ubuntu@host:~$   root@host:/var/log#
    r"[\w.-]+@[\w.-]+ [^\s%#]{1,200} [%#]",  # user@host ~ %   (zsh on macOS-like setups)
    r"PS (?:[A-Za-z]:\\|/|[A-Za-z][\w]*:)[^>\n]{0,200}>",  # PS C:\Users\ssm-user>
]
# cmd.exe started inside a Windows session: ``C:\Users\ssm-user>whoami`` (no space after ``>``).
CMD_PROMPT = r"[A-Za-z]:\\[^<>|\"\n]{0,200}>"
KNOWN_PROMPT = re.compile(rf"{_VENV}(?:(?:{'|'.join(_KNOWN)})(?: |$)|{CMD_PROMPT})")
POWERSHELL_PROMPT = re.compile(r"(?:\([^()\s]{1,40}\) )?PS ")

# Continuation prompts: bash/sh ``> ``, zsh ``quote> ``, ``for dquote> ``..., PowerShell ``>> ``.
_ZSH_STATES = (
    r"(?:for|while|until|if|then|else|elif|case|select|repeat|foreach|function|subsh|cursh|quote|"
    r"dquote|bquote|cmdsubst|mathsubst|heredoc|heredocd|pipe|cmdand|cmdor|brace|braceparam|array|"
    r"shfunc|math|always)"
)
CONTINUATION = re.compile(rf"(?:{_ZSH_STATES} )*(?:{_ZSH_STATES})?> ?")
PS_CONTINUATION = re.compile(r">> ?")

# A line that may start with an unknown prompt: up to 64 characters without a leading space or
# ``<``/``>`` (XML, continuations) ending in one of the usual prompt characters, then a space.
_CANDIDATE = re.compile(r"(?=[^\s<>])([$#%]|[^\n]{0,62}?[^\s] ?[$#%>]) ")
_WORD = re.compile(r"[A-Za-z0-9]")
_DIGITS = re.compile(r"\d+")
_PATH = re.compile(r"(?<![^\s:\[(])(?:~|/)[^\s\]):$#%>]*")


def candidate(line: str) -> str | None:
    """The prompt this line might start with (with its trailing space), or None.

    Table-like text (two spaces in a row) and bare punctuation other than ``$`` are not candidates:
    they are too common in ordinary output.
    """
    m = _CANDIDATE.match(line)
    if m is None:
        return None
    text = m.group(1)
    if "  " in text or (not _WORD.search(text) and text not in ("$", "#", "%")):
        return None
    return text + " "


def doubled(line: str) -> str | None:
    """The prompt of a line that shows it twice, as the first line of a session does
    (``sh-4.2$ sh-4.2$ date``, ``$ $ ls``), or None."""
    first = candidate(line)
    if first is not None and line.startswith(first, len(first)):
        return first
    return None


def shape_of(prompt: str) -> str:
    """A regex source matching ``prompt`` and the same prompt after a ``cd`` or as time passes."""
    parts: list[str] = []
    pos = 0
    for m in re.finditer(rf"{_PATH.pattern}|{_DIGITS.pattern}", prompt):
        parts.append(re.escape(prompt[pos : m.start()]))
        parts.append(r"\d+" if m.group()[0].isdigit() else r"[^\s$#%>]*")
        pos = m.end()
    parts.append(re.escape(prompt[pos:].rstrip(" ")))
    return "".join(parts) + "(?: |$)"


@lru_cache(maxsize=256)
def compiled_shapes(shapes: tuple[str, ...]) -> re.Pattern[str] | None:
    """One regex for a session's learned prompt shapes (most recent first)."""
    if not shapes:
        return None
    return re.compile("|".join(f"(?:{s})" for s in shapes))


# fmt: off
_SHELL_WORDS = frozenset({
    "su", "bash", "sh", "zsh", "ksh", "dash", "fish", "tcsh", "csh", "mksh", "pwsh", "powershell",
    "ssh", "chroot", "nsenter", "machinectl", "script", "tmux", "screen",
})
# fmt: on
_SUDO_SHELL_FLAGS = frozenset({"-i", "-s", "--login", "--shell"})


def switches_shell(command: str) -> bool:
    """True when ``command`` starts a new interactive shell whose prompt may differ
    (``sudo su -``, ``sudo -i``, ``su - app``, ``bash``, ``exec zsh``, ``docker exec -it x sh``)."""
    words = command.split()
    if not words:
        return False
    if words[0] == "exec":
        words = words[1:]
    if words and words[0] == "sudo":
        rest = words[1:]
        if any(w in _SUDO_SHELL_FLAGS for w in rest if w.startswith("-")):
            return True
        words = [w for w in rest if not w.startswith("-")]
    if not words:
        return False
    name = words[0].rsplit("/", 1)[-1]
    if name in _SHELL_WORDS:
        # ``bash script.sh`` / ``sh -c '...'`` run a script, not an interactive shell.
        return name in ("su", "ssh", "chroot", "nsenter", "machinectl", "tmux", "screen") or not any(
            not w.startswith("-") or w == "-c" for w in words[1:]
        )
    return name in ("docker", "kubectl", "podman", "nerdctl") and "exec" in words
