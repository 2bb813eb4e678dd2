"""Does a command session's command open something that runs commands unseen? Pure.

Interactive and non-interactive command sessions are not streamed (aws-facts §6): the command in
StartSession is the only thing seen until the transcript arrives at the end. A command that is a
shell, an interpreter, a pager or an editor (each can run anything; pagers and editors through
``!cmd``) turns the session into an unwatched shell. So does a shell or interpreter running code
the command does not show (``bash -c "$(cat /tmp/x)"``, ``sh < /tmp/x``, ``curl … | bash``). A
script file (``bash /opt/x.sh``, ``python3 report.py``) is like any other program: not reported here,
judged by the command rules.

The command is split with ``shlex`` (POSIX rules, control operators apart); every simple command of
it is looked at, through wrappers (sudo, su, env, nice, timeout, nohup, exec, docker/kubectl exec).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass

SHELLS = frozenset(
    {"sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "csh", "tcsh", "fish", "rbash", "yash", "busybox"}
    | {"pwsh", "powershell", "powershell.exe", "pwsh.exe", "cmd", "cmd.exe"}
)
INTERPRETERS = frozenset(
    {"perl", "ruby", "irb", "node", "nodejs", "php", "lua", "luajit", "tclsh", "wish", "ipython", "bpython"}
    | {"pypy", "pypy3", "R", "Rscript", "ghci", "jshell", "scala", "groovy", "expect", "gdb", "osascript"}
)
PAGERS = frozenset({"less", "more", "most", "pg", "man", "info"})
EDITORS = frozenset(
    {
        "vi",
        "vim",
        "nvim",
        "view",
        "vimx",
        "gvim",
        "rvim",
        "ex",
        "emacs",
        "nano",
        "pico",
        "joe",
        "mcedit",
        "ed",
    }
)
MULTIPLEXERS = frozenset({"tmux", "screen", "byobu", "zellij", "script", "ssh", "telnet", "mosh"})
# Programs that become a login shell without a command argument.
SHELL_WITHOUT_COMMAND = frozenset({"su", "login", "nsenter", "chroot", "unshare", "machinectl", "runuser"})
_PYTHON = re.compile(r"^python(?:[23](?:\.\d+)?)?$")
# Code a shell or interpreter runs that the command line does not show: substitution, expansion,
# reading input, sourcing a file.
_HIDDEN_CODE = re.compile(r"\$\(|`|\$\{?[A-Za-z_]|\beval\b|\bsource\s|(?:^|[;&|]\s*)\.\s+\S|<\s*\S|\bread\b")
# Code that spawns a shell from an interpreter.
_SPAWNS_SHELL = re.compile(
    r"pty\.spawn|os\.system|os\.exec|subprocess|popen|\bsystem\s*\(|\bexec\s*\(|spawn\s*\(|"
    r"/bin/\w*sh\b|\bbash\b|\bsh\s+-i\b"
)
_OPERATORS = frozenset({";", "&", "&&", "|", "||", "|&", "(", ")", ";;", "\n"})
_REDIRECT = re.compile(r"^\d*(?:>>?|>&|<|<<|<<<|&>>?|<>)$")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_MAX_DEPTH = 4


@dataclass(frozen=True)
class Unwatched:
    """What the command opens: its kind (shell, interpreter, pager, editor, terminal) and why."""

    kind: str
    program: str
    why: str


def _tokens(command: str) -> list[str]:
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        return list(lexer)
    except ValueError:  # unbalanced quotes: whitespace is the best we can do
        return command.split()


def _simple_commands(tokens: list[str]) -> Iterator[tuple[list[str], bool]]:
    """(words, reads a redirected input) of each simple command, redirections taken out."""
    words: list[str] = []
    reads_input = False
    skip_next = False
    for token in tokens:
        if skip_next:
            skip_next = False
            continue
        if token in _OPERATORS or set(token) <= set(";&|()"):
            if words:
                yield words, reads_input
            words, reads_input = [], False
            continue
        if _REDIRECT.match(token):
            reads_input = reads_input or token.lstrip("0123456789").startswith("<")
            skip_next = True
            continue
        words.append(token)
    if words:
        yield words, reads_input


def _base(word: str) -> str:
    return word.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]


def _after_options(words: list[str], with_value: frozenset[str]) -> list[str]:
    """The words after a wrapper's own options (``with_value`` options take the next word)."""
    i = 1
    while i < len(words):
        word = words[i]
        if word == "--":
            return words[i + 1 :]
        if not word.startswith("-") or word == "-":
            break
        if word in with_value:
            i += 1
        i += 1
    return words[i:]


def _unwrap(words: list[str]) -> list[str] | None:
    """The command a wrapper runs (None: the words are not a wrapper)."""
    name = _base(words[0])
    if name in ("sudo", "doas"):
        rest = _after_options(words, frozenset({"-u", "-g", "-h", "-p", "-C", "-D", "-r", "-t", "-U", "-T"}))
        if not rest:
            login = any(w in ("-i", "-s", "--login", "--shell") for w in words[1:])
            return ["sh"] if login else []
        return rest
    if name == "env":
        rest = _after_options(words, frozenset({"-u", "-C", "-S", "--unset", "--chdir"}))
        while rest and _ASSIGNMENT.match(rest[0]):
            rest = rest[1:]
        return rest
    if name in ("nice", "ionice", "chrt", "taskset", "stdbuf", "cgexec", "flock"):
        rest = _after_options(words, frozenset({"-n", "-c", "-p", "-o", "-e", "-i", "-g", "-w"}))
        if name in ("chrt", "taskset", "flock") and rest:
            rest = rest[1:]  # the priority, CPU mask or lock file
        return rest
    if name == "timeout":
        rest = _after_options(words, frozenset({"-s", "-k", "--signal", "--kill-after"}))
        return rest[1:]  # the duration
    if name in ("nohup", "exec", "command", "builtin", "time", "setsid", "unbuffer", "caffeinate"):
        return _after_options(words, frozenset({"-a"}))
    if name in ("docker", "podman", "nerdctl") and len(words) > 2 and words[1] == "exec":
        rest = _after_options(words[1:], frozenset({"-u", "-e", "-w", "--user", "--env", "--workdir"}))
        return rest[1:]  # the container
    if name in ("kubectl", "oc") and "exec" in words[1:3] and "--" in words:
        return words[words.index("--") + 1 :]
    return None


def _shell_runs(words: list[str], reads_input: bool) -> str | None:
    """Why a shell invocation is unwatched, or None when it runs a visible command string."""
    args = words[1:]
    if _base(words[0]) == "busybox":
        args = args[1:] if args and _base(args[0]) in SHELLS else ["--not-a-shell"]
        if args == ["--not-a-shell"]:
            return None
    if reads_input:
        return "it reads its commands from a redirected input, which the command does not show"
    for i, arg in enumerate(args):
        if arg in ("-c", "/c", "/C", "-Command", "-command", "-EncodedCommand", "-enc", "-e"):
            code = " ".join(args[i + 1 : i + 2])
            if arg.lower() in ("-encodedcommand", "-enc") or _HIDDEN_CODE.search(code):
                return f"the code it runs is not shown ({code[:60]!r})"
            inner = classify(code, depth=1)
            return inner.why if inner else None
        if arg in ("-s", "-"):
            return "it reads its commands from standard input"
        if not arg.startswith("-") and arg != "+":
            return None  # a script file: like running any program, judged by the command rules
    return "it is an interactive shell"


def _interpreter_runs(words: list[str], reads_input: bool) -> str | None:
    args = words[1:]
    if reads_input:
        return "it reads its program from a redirected input"
    for i, arg in enumerate(args):
        if arg in ("-c", "-e", "-E", "-r", "--eval", "-x") and i + 1 < len(args):
            code = args[i + 1]
            if _SPAWNS_SHELL.search(code) or _HIDDEN_CODE.search(code):
                return f"its code starts a shell or runs what the command does not show ({code[:60]!r})"
            return None
        if arg in ("-m",) and i + 1 < len(args):
            return (
                None if args[i + 1] not in ("pdb", "code", "IPython", "idlelib") else "an interactive prompt"
            )
        if arg == "-i":
            return "it keeps an interactive prompt open"
        if arg in ("-V", "--version", "-h", "--help", "-v"):
            return None
        if arg == "-":
            return "it reads its program from standard input"
        if not arg.startswith("-"):
            return None  # a script file: like running any program, judged by the command rules
    return "it is an interactive prompt (REPL)"


def _login_like(name: str, words: list[str], reads_input: bool, depth: int) -> Unwatched | None:
    """su / runuser / login / chroot / nsenter / unshare: a shell unless they are given a command."""
    opens = Unwatched("shell", name, f"{' '.join(words)} opens a shell")
    if name in ("su", "runuser"):
        for flag in ("-c", "--command", "--session-command"):
            if flag in words[:-1]:
                return classify(words[words.index(flag) + 1], depth=depth + 1)
        return opens
    if name in ("login", "machinectl"):
        return opens
    rest = _after_options(words, frozenset({"-t", "--target", "-S", "-G", "--setuid", "--setgid", "-w"}))
    if name == "chroot":
        rest = rest[1:]  # the new root
    return _judge_words(rest, reads_input, depth + 1) if rest else opens


def _judge_words(words: list[str], reads_input: bool, depth: int) -> Unwatched | None:
    while words and _ASSIGNMENT.match(words[0]):
        words = words[1:]
    if not words or depth > _MAX_DEPTH:
        return None
    inner = _unwrap(words)
    if inner is not None:
        if inner == ["sh"]:
            return Unwatched(
                "shell", _base(words[0]), f"{words[0]} {' '.join(words[1:])} opens a login shell"
            )
        return _judge_words(inner, reads_input, depth + 1) if inner else None
    name = _base(words[0])
    if name in SHELLS:
        why = _shell_runs(words, reads_input)
        return Unwatched("shell", name, f"{name}: {why}") if why else None
    if _PYTHON.match(name) or name in INTERPRETERS:
        why = _interpreter_runs(words, reads_input)
        return Unwatched("interpreter", name, f"{name}: {why}") if why else None
    if name in SHELL_WITHOUT_COMMAND:
        return _login_like(name, words, reads_input, depth)
    if name in PAGERS:
        return Unwatched("pager", name, f"{name} is a pager, which runs shell commands with !")
    if name in EDITORS:
        return Unwatched("editor", name, f"{name} is an editor, which runs shell commands (:!cmd)")
    if name in MULTIPLEXERS:
        if name == "ssh" and len([w for w in words[1:] if not w.startswith("-")]) > 1:
            return None  # ssh host command: runs that command
        if name == "tmux" and len(words) > 1 and words[1] in ("ls", "list-sessions", "kill-server", "-V"):
            return None
        return Unwatched("terminal", name, f"{name} opens a new terminal with its own shell")
    return None


def classify(command: str, depth: int = 0) -> Unwatched | None:
    """What in ``command`` runs commands unseen (the first such simple command), or None."""
    if depth > _MAX_DEPTH or not command.strip():
        return None
    for line in command.splitlines():
        for words, reads_input in _simple_commands(_tokens(line)):
            found = _judge_words(words, reads_input, depth)
            if found is not None:
                return found
    return None
