"""Shell prompts: a first guess from the shapes common shells print, then shapes learned from the
session itself. Pure.

A prompt is kept as a *shape*: a regex source built from the text the shell printed, literal except
for its variable parts (numbers such as an exit code or the time, paths such as the working
directory, and any word seen to change when the working directory did). ``[ssm-user@ip-10-0-1-23
tmp]$ `` stays literal up to ``tmp``; ``sh-5.2$ `` never matches ``sh-4.2$ `` printed by a ``cat``.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ssm_warden.shells import Shell
from ssm_warden.transcript import windows

# -- first guesses (only for the first lines, or right after a shell starts) ----------------------
_VENV = r"(?:\([^()\s]{1,40}\) )?"  # (venv) / (base) before the prompt
_KNOWN_POSIX = [
    r"(?:sh|bash|dash|ksh|zsh|mksh)-\d+(?:\.\d+)*[$#] ",  # sh-4.2$   bash-5.2#
    r"\[[\w.-]+@[\w.-]+(?: [^\]\n]{0,80})?\][$#] ",  # [ec2-user@ip-10-0-0-1 ~]$
    r"[\w.-]+@[\w.-]+:[^\s$#]{0,200}[$#] ",  # ubuntu@host:~$
    r"[\w.-]+@[\w.-]+ [^\s%#]{1,200} [%#] ",  # user@host ~ %
    r"[\w.-]{1,64}[%#] ",  # zsh's default host%
    r"[$#%] ",  # dash, sh
    r"\ufffd{1,3}  \S+ (?:git:\([^()\s]*\) (?:\ufffd+ )?)?",  # oh-my-zsh ➜ after the agent
    r"➜  \S+ (?:git:\([^()\s]*\) (?:✗ )?)?",
    r"(?:\ufffd{1,3}|\u276f|λ|»|→|>) ",  # starship \u276f (mangled), λ, » prompts
]
KNOWN_POSIX = re.compile(rf"{_VENV}(?:{'|'.join(_KNOWN_POSIX)})")
KNOWN_POWERSHELL = re.compile(_VENV + windows.POWERSHELL_PROMPT.pattern)
KNOWN_CMD = windows.CMD_PROMPT
BARE = frozenset({"$ ", "# ", "% ", "> "})  # too common in output to trust without more

# Continuation prompts: bash/sh ``> ``, zsh ``quote> ``, ``for dquote> ``..., PowerShell ``>> ``.
_ZSH_STATES = (
    r"(?:for|while|until|if|then|else|elif|case|select|repeat|foreach|function|subsh|cursh|quote|"
    r"dquote|bquote|cmdsubst|mathsubst|heredoc|heredocd|pipe|cmdand|cmdor|brace|braceparam|array|"
    r"shfunc|math|always)"
)
CONTINUATION = re.compile(rf"(?:{_ZSH_STATES} )*(?:{_ZSH_STATES})?> ?")
PS_CONTINUATION = re.compile(r">> ?")

# -- shapes -----------------------------------------------------------------------------------------
# Tokens of a prompt: numbers, paths (``~``, ``/x/y``), runs of U+FFFD, or other text.
_TOKEN = re.compile(
    r"(?P<num>(?<![\w.-])\d+(?![\w.-]))|(?P<path>(?<![^\s:\[(])(?:~|/)[^\s\]):$#%>]*)|(?P<fffd>\ufffd+)"
)
PROMPT_CHARS = frozenset("$#%>\u276f➜λ»\u203a→:)]\ufffd")
PROMPT_ENDS = "$#%>\u276fλ»\u203a→\ufffd"  # what an unexplained new prompt must end with


def shape_of(prompt: str) -> str:
    """A regex source matching ``prompt`` and the same prompt with other numbers or paths."""
    parts: list[str] = []
    pos = 0
    for m in _TOKEN.finditer(prompt):
        parts.append(re.escape(prompt[pos : m.start()]))
        kind = m.lastgroup
        parts.append(r"\d+" if kind == "num" else r"\ufffd+" if kind == "fffd" else r"[^\s$#%>]*")
        pos = m.end()
    parts.append(re.escape(prompt[pos:]))
    return "".join(parts)


def widen(shape: str, prompt: str, line: str) -> str | None:
    """``shape`` with one word made variable so that it matches ``line`` (a prompt after ``cd``:
    ``➜  tmp `` then ``➜  repo ``), or None. ``prompt`` is the text the shape was learned from."""
    words = list(re.finditer(r"[^\s]+", prompt))
    if len(words) < 2:
        return None  # a one-word prompt made variable would match any line
    for m in words:
        if all(c in PROMPT_CHARS for c in m.group()) or m.group()[-1] in "$#%>\u276fλ»\u203a→\ufffd":
            continue
        head, tail = prompt[: m.start()], prompt[m.end() :]
        if not head.strip() and len(words) > 1:
            continue  # the first word anchors the shape
        candidate = shape_of(head) + r"[^\s$#%>]+" + shape_of(tail)
        if compiled(candidate).match(line):
            return candidate
    return None


@lru_cache(maxsize=512)
def compiled(shape: str) -> re.Pattern[str]:
    return re.compile(shape)


def candidates(line: str) -> list[str]:
    """Prompts ``line`` may start with (each with its trailing spaces), longest first: prefixes at
    a space, of up to 100 characters and 8 words, whose last two words hold a prompt character."""
    found: list[str] = []
    words = list(re.finditer(r"\S+\s+", line[:100]))
    for k, m in enumerate(words[:8]):
        tail = "".join(w.group() for w in words[max(0, k - 1) : k + 1])
        if any(c in PROMPT_CHARS for c in tail) and k + 1 < len(words) + 1:
            prefix = line[: m.end()]
            if len(prefix) < len(line):
                found.append(prefix)
    return found[::-1]


def doubled(line: str) -> str | None:
    """The prompt of a line that shows it twice, as a session's first line may (``sh-4.2$ sh-4.2$
    date``, ``$ $ ls``)."""
    for prompt in candidates(line):
        if line.startswith(prompt, len(prompt)) and prompt.strip():
            return prompt
    m = KNOWN_POSIX.match(line)
    if m and line.startswith(m.group(), m.end()):
        return m.group()
    return None


def first_guess(line: str) -> tuple[str, Shell] | None:
    """A known prompt shape at the start of ``line``, and its shell."""
    m = KNOWN_POWERSHELL.match(line)
    if m:
        return m.group(), "powershell"
    m = KNOWN_CMD.match(line)
    if m:
        return m.group(), "cmd"
    m = KNOWN_POSIX.match(line)
    if m:
        return m.group(), "posix"
    return None


# -- prompts set by the user: PS1= / PROMPT= -----------------------------------------------------
_PS1 = re.compile(r"^(?:export\s+)?(PS1|PROMPT|PS2)=(.*)$", re.S)
_BASH_ESCAPES = {
    "u": r"[\w.-]+",
    "h": r"[\w-]+",
    "H": r"[\w.-]+",
    "w": r"[^\s]*",
    "W": r"[^\s]*",
    "$": r"[$#]",
    "t": r"\d\d:\d\d:\d\d",
    "T": r"\d\d:\d\d:\d\d",
    "@": r"\d\d:\d\d [AP]M",
    "A": r"\d\d:\d\d",
    "d": r"\w+ \w+ \d+",
    "s": r"[\w.-]+",
    "v": r"[\d.]+",
    "V": r"[\d.]+",
    "!": r"\d+",
    "#": r"\d+",
    "j": r"\d+",
    "l": r"\S+",
    "n": "",
}
_ZSH_ESCAPES = {
    "n": r"[\w.-]+",
    "m": r"[\w-]+",
    "M": r"[\w.-]+",
    "~": r"[^\s]*",
    "d": r"[^\s]*",
    "/": r"[^\s]*",
    "c": r"[^\s]*",
    "C": r"[^\s]*",
    "#": r"[%#]",
    "?": r"\d+",
    "T": r"\d+:\d\d",
    "*": r"\d+:\d\d:\d\d",
    "%": "%",
}


def _unquote(value: str) -> str | None:
    value = value.strip()
    if value.startswith("$'") and value.endswith("'"):
        return value[2:-1].replace("\\n", "\n").replace("\\e", "\x1b").replace("\\033", "\x1b")
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    if " " in value or "$(" in value or "`" in value:
        return None
    return value


def assigned_prompt(command: str) -> tuple[str, str | None] | None:
    """For ``PS1='...'``/``PROMPT=...``/``PS2=...``: (variable, shape of the prompt it prints, or
    None when the value cannot be read: a command substitution, a variable)."""
    m = _PS1.match(command.strip())
    if m is None:
        return None
    name, value = m.group(1), _unquote(m.group(2))
    if value is None or "$" in value.replace("\\$", ""):
        return name, None
    if name == "PS2" or value == "":
        return name, value
    return name, _prompt_shape(value, zsh=name == "PROMPT")


def _prompt_shape(value: str, *, zsh: bool) -> str | None:
    value = value.rsplit("\n", 1)[-1]  # a two-line prompt: its last line starts the input line
    value = re.sub(r"\\\[.*?\\\]", "", value)  # bash non-printing sequences
    value = re.sub(r"%\{.*?%\}", "", value)  # zsh's
    value = re.sub(r"%[FK]\{[^}]*\}|%[FKfkBbUuSs]", "", value)
    parts: list[str] = []
    i = 0
    table = _ZSH_ESCAPES if zsh else _BASH_ESCAPES
    lead = "%" if zsh else "\\"
    while i < len(value):
        c = value[i]
        if c == lead and i + 1 < len(value):
            nxt = value[i + 1]
            if zsh and nxt == "(":
                return None  # a ternary: too many forms
            parts.append(table.get(nxt, re.escape(nxt)))
            i += 2
            continue
        parts.append(r"\ufffd+" if _mangled(c) else re.escape(c))
        i += 1
    shape = "".join(parts)
    return shape or None


def _mangled(c: str) -> bool:
    """A character the agent turns into U+FFFD (its UTF-8 holds a byte 0x80-0x9F)."""
    return any(0x80 <= b <= 0x9F for b in c.encode())


# -- commands that change what the terminal shows -------------------------------------------------
# fmt: off
_SHELL_WORDS = frozenset({
    "su", "bash", "sh", "zsh", "ksh", "dash", "fish", "tcsh", "csh", "mksh", "pwsh", "powershell",
    "ssh", "chroot", "nsenter", "machinectl", "script", "tmux", "screen", "cmd", "cmd.exe",
    "powershell.exe", "pwsh.exe",
})
# fmt: on
_SUDO_SHELL_FLAGS = frozenset({"-i", "-s", "--login", "--shell"})


def _words(command: str) -> list[str]:
    words = command.split()
    while words and (words[0] in ("exec", "command", "env", "nohup", "time") or "=" in words[0]):
        words = words[1:]
    if words and words[0] == "sudo":
        rest = words[1:]
        if any(w in _SUDO_SHELL_FLAGS for w in rest if w.startswith("-")):
            return ["sh"]
        words = [w for w in rest if not w.startswith("-")]
    return words


def switches_shell(command: str) -> bool:
    """True when ``command`` starts a new interactive shell whose prompt may differ
    (``sudo su -``, ``sudo -i``, ``su - app``, ``bash``, ``exec zsh``, ``docker exec -it x sh``)."""
    words = _words(command)
    if not words:
        return False
    name = words[0].rsplit("/", 1)[-1]
    if name in _SHELL_WORDS:
        # ``bash script.sh`` / ``sh -c '...'`` run a script, not an interactive shell.
        return name in ("su", "ssh", "chroot", "nsenter", "machinectl", "tmux", "screen") or not any(
            not w.startswith("-") or w == "-c" for w in words[1:]
        )
    return name in ("docker", "kubectl", "podman", "nerdctl") and "exec" in words


def started_shell(command: str) -> Shell | None:
    """The kind of shell ``command`` starts, or None."""
    started = windows.started_shell(command)
    if started is not None:
        return started
    if not switches_shell(command):
        return None
    name = _words(command)[0].rsplit("/", 1)[-1].lower()
    if name in ("cmd", "cmd.exe", "pwsh", "powershell", "pwsh.exe", "powershell.exe"):
        return None  # ``windows.started_shell`` said it runs something and exits
    return "posix"


def changes_directory(command: str) -> bool:
    words = command.split()
    return bool(words) and words[0] in ("cd", "pushd", "popd", "z", "git", "source", ".", "deactivate")


# Programs with their own prompt, and how commands run from them look.
PROGRAMS: dict[str, str] = {
    "python": r">>> |\.\.\. ",
    "mysql": r"(?:mysql|MariaDB \[[^\]]*\])> |    -> ",
    # psql's ``%/%R%x%# ``: the database, ``=`` (``-`` or a quote when continuing, ``^``, ``!``),
    # a transaction mark, ``#``/``>``: ``app=# ``, ``app=*> ``, ``app-# ``; never a bare ``vm# ``
    "psql": r"""[\w-]+[=\-^!'"(][*!]?[#>] """,
    "sqlite3": r"sqlite> |   \.\.\.> ",
}
UNWATCHABLE = frozenset(
    {"tmux", "screen", "vim", "vi", "nvim", "less", "more", "man", "emacs", "nano", "mc", "top", "htop"}
)


def program_of(command: str) -> str | None:
    """The interactive program ``command`` starts (``python3`` with no script, ``mysql``, ``vim x``)."""
    words = _words(command)
    if not words:
        return None
    name = words[0].rsplit("/", 1)[-1]
    base = re.sub(r"[\d.]+$", "", name)  # python3.11 -> python; a name that ends in a digit stays
    if base in ("python", "ipython") and not any(not w.startswith("-") for w in words[1:]):
        return "python"
    for program in (name, base):
        if program in ("mysql", "mariadb", "psql", "sqlite3") and not {"-e", "-c"} & set(words):
            if program == "sqlite3" and len([w for w in words[1:] if not w.startswith("-")]) > 1:
                return None  # ``sqlite3 db.sqlite 'select ...'``: runs SQL and exits
            return {"mariadb": "mysql"}.get(program, program)
        if program in UNWATCHABLE and "|" not in command:
            return program
    return None


# tmux and screen commands that put the terminal inside the multiplexer (``tmux ls`` does not).
_ENTERS = {
    "tmux": frozenset({"new", "new-session", "attach", "attach-session", "a", "at", "att"}),
    "screen": frozenset(),
}


def enters_multiplexer(command: str) -> str | None:
    """``tmux``, ``tmux new -s x``, ``tmux a``, ``screen``, ``screen -r``: the multiplexer whose
    screen the terminal shows from now on, or None."""
    words = _words(command)
    if not words or "|" in command:
        return None
    name = words[0].rsplit("/", 1)[-1]
    if name not in _ENTERS:
        return None
    if name == "screen":
        return None if {"-ls", "-list", "-X", "-Q", "-v"} & set(words) else name
    options_with_value = {"-f", "-L", "-S", "-c"}
    k = 1
    while k < len(words) and words[k].startswith("-"):
        k += 2 if words[k] in options_with_value else 1
    sub = words[k] if k < len(words) else ""
    return name if sub == "" or sub in _ENTERS["tmux"] else None


# Commands that print files or logs: what they show may hold anything, prompts included.
_DUMPERS = frozenset(
    {
        "cat",
        "tac",
        "less",
        "more",
        "head",
        "tail",
        "grep",
        "egrep",
        "zcat",
        "zless",
        "bat",
        "strings",
        "journalctl",
        "dmesg",
        "sed",
        "awk",
        "column",
        "nl",
        "xxd",
        "od",
        "jq",
        "yq",
        "diff",
        "git",
        "kubectl",
        "docker",
        "podman",
        "aws",
        "curl",
        "wget",
        "history",
    }
)  # echo/printf print their own words: a line they show is caught by that (the extractor)


def prints_text(command: str) -> bool:
    words = _words(command)
    return bool(words) and words[0].rsplit("/", 1)[-1] in _DUMPERS


_COMMAND_WORD = re.compile(r"[a-z0-9_./~\[!({$\\'\"-]|[A-Z_][A-Z0-9_]*=")


def plausible_command(text: str) -> bool:
    """Could ``text`` be a command line? (``Installing`` from a Markdown heading is not.)"""
    return bool(text) and _COMMAND_WORD.match(text) is not None


NO_PROMPT = "empty-prompt"
# less's prompt before a ``!``: a file name (with a dot or a slash) and its position, ``:``...
_PAGER_BANG = re.compile(
    r"(?:[^\s!]{1,200}(?: \(END\)| lines \d+-\d+\S*(?: \d+%)?(?: \(END\))?| \d+%)"
    r"|[^\s!]{0,200}[./][^\s!]{0,200}|:|\(END\)|--More--(?:\(\d+%\))?)?!"
)
_ROW_GAP = re.compile(r" {16}\S")  # the padding of a full-screen program's row, then the next row
SHELL_ESCAPES = frozenset({"vim", "vi", "nvim", "less", "more", "man", "python", "mysql", "psql", "sqlite3"})
_PY_CALL = re.compile(
    r"""(?:os\.(?:system|popen|exec\w*|spawn\w*)|subprocess\.\w+|pty\.spawn|commands\.getoutput)\(\s*\[?\s*(?P<q>['"])(?P<cmd>.+?)(?P=q)"""
)


def shell_escape(program: str, line: str) -> str | None:
    """The shell command a line typed in ``program`` runs, or None: ``:!cmd`` in vim, ``!cmd`` in
    less, ``os.system('cmd')``/``subprocess.run([...])`` in python, ``\\! cmd``/``system cmd`` in
    mysql and psql, ``.shell cmd``/``.system cmd`` in sqlite3."""
    if program in ("vim", "vi", "nvim"):
        # vim's screen rows come as one line (cursor moves removed): its command line is the last
        # row, so a ``:!`` followed by more rows (a wide gap, then text) is the file's text
        pos = line.rfind(":!")
        cmd = line[pos + 2 :].strip() if pos >= 0 else ""
        return cmd if cmd and _ROW_GAP.search(cmd) is None else None
    if program in ("less", "more", "man"):
        # ``!`` typed at less's prompt on the last row (``:``, ``(END)``, the file's name, a
        # position), never a ``!`` inside a sentence of the file; less echoes it as typed and
        # again when it runs it (``!id!id``)
        m = _PAGER_BANG.match(line.strip())
        cmd = line.strip()[m.end() :].strip() if m else ""
        half = len(cmd) // 2
        if len(cmd) % 2 == 1 and cmd[half] == "!" and cmd[:half] == cmd[half + 1 :]:
            cmd = cmd[:half]
        return cmd if cmd and plausible_command(cmd) and "(press RETURN)" not in cmd else None
    if program == "python":
        m = _PY_CALL.search(line)
        return m.group("cmd") if m else None
    text = line.strip()
    if program == "sqlite3":
        for lead in (".shell ", ".system "):
            if text.startswith(lead):
                return text[len(lead) :].strip() or None
        return None
    for lead in ("\\!", "system "):
        if text.startswith(lead):
            return text[len(lead) :].strip() or None
    return None


def empties_prompt(command: str) -> bool:
    m = _PS1.match(command.strip())
    return m is not None and m.group(1) in ("PS1", "PROMPT") and _unquote(m.group(2)) == ""
