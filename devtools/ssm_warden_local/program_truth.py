"""What programs with their own prompt really ran in a recorded session, from the programs
themselves (never from ssm-warden's extractor). Used by ``recorder.py``.

- Commands run from ``vim`` (``:!cmd``), ``less`` (``!cmd``), ``python3`` (``os.system``) or
  ``sqlite3`` (``.shell``): the session runs under ``strace -f`` (process creation and ``execve``);
  every shell started with ``-c`` by one of those programs is a command it ran, and the ``-c``
  string is the command.
- Lines a REPL read (``>>> import os``, ``sqlite> select 1;``): its own ``read`` calls on its
  terminal in the same trace (readline reads a key at a time; history files miss lines such as
  sqlite's ``.quit``).
- Shells inside ``tmux`` or ``script``: they are bash, and write the same bash history as the
  outer shell (``recorder.py``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

# Programs whose ``sh -c`` children are commands run from them (the program's executable name).
PROGRAMS = {
    "vim": "vim",
    "vim.basic": "vim",
    "vim.tiny": "vim",
    "vi": "vim",
    "less": "less",
    "sqlite3": "sqlite3",
    "psql": "psql",
    "mysql": "mysql",
}
SHELLS = frozenset({"sh", "bash", "dash", "zsh"})

_HEX = re.compile(r'"((?:\\x[0-9a-f]{2})*)"')
_EXEC = re.compile(r"^(\d+) +execve\((.*)$")
_CHILD = re.compile(r"^(\d+) +(?:<\.\.\. )?(?:clone3?|vfork|fork)\b.*= (\d+)(?: <.*>)?$")
_READ = re.compile(r'^(\d+) +read\(0, "((?:\\x[0-9a-f]{2})*)"')
REPLS = frozenset({"python", "sqlite3", "psql", "mysql"})


def traced(argv: list[str], out: Path) -> list[str]:
    """``argv`` run under strace, recording process creation and every ``execve`` to ``out``."""
    return [
        "strace",
        "-qq",
        "-f",
        "-e",
        "trace=execve,clone,clone3,fork,vfork,read",
        "-s",
        "65535",
        "-xx",
        "-o",
        str(out),
        *argv,
    ]


def _unhex(s: str) -> str:
    return bytes.fromhex(s.replace("\\x", "")).decode(errors="replace")


def _program(path: str) -> str | None:
    """The program ``path`` runs: Debian's alternatives (``/usr/bin/pager``, ``/usr/bin/editor``,
    ``vi``) resolved on this machine, where the session was recorded."""
    if path.startswith("/"):
        path = os.path.realpath(path)
    name = path.rsplit("/", 1)[-1]
    if name in PROGRAMS:
        return PROGRAMS[name]
    if re.fullmatch(r"python[\d.]*", name):
        return "python"
    return None


def commands_run_from_programs(strace_out: Path) -> list[tuple[str, str]]:
    """(program, command) for every shell a program started with ``-c``, in order."""
    if not strace_out.exists():
        return []
    lines = strace_out.read_text(errors="replace").splitlines()
    parent: dict[str, str] = {}
    for line in lines:  # first every parent: a child may exec before its clone() call returns
        child = _CHILD.match(line)
        if child:
            parent[child.group(2)] = child.group(1)
    exe: dict[str, str] = {}
    found: list[tuple[str, str]] = []
    run_by: dict[str, int] = {}  # pid of a shell a program started -> its entry in ``found``
    for line in lines:
        m = _EXEC.match(line)
        if not m or line.rstrip().endswith(("ENOENT (No such file or directory)", "= -1 EACCES")):
            continue
        pid, rest = m.group(1), m.group(2)
        args_part = rest.split("], ", 1)[0]
        strings = [_unhex(x) for x in _HEX.findall(args_part)]
        if not strings:
            continue
        path, argv = strings[0], strings[1:]
        by = _exe_of(parent.get(pid, ""), exe, parent)
        exe[pid] = path
        program = _program(by)
        name = path.rsplit("/", 1)[-1]
        if name not in SHELLS or "-c" not in argv[:-1]:
            continue
        command = argv[argv.index("-c") + 1]
        wrapper = run_by.get(parent.get(pid, ""))
        if wrapper is not None and found[wrapper][1].startswith((f"{path} -c ", f"{name} -c ")):
            # ``less`` runs ``sh -c "$SHELL -c cmd"``: the command is the inner shell's
            found[wrapper] = (found[wrapper][0], command)
            run_by[pid] = wrapper
            continue
        if program and (not found or found[-1] != (program, command)):  # execvp trying PATH
            run_by[pid] = len(found)
            found.append((program, command))
    return found


def _exe_of(pid: str, exe: dict[str, str], parent: dict[str, str]) -> str:
    """What ``pid`` runs: its last ``execve``, or (a forked child that has not exec'd) its parent's."""
    for _ in range(64):
        if pid in exe or pid not in parent:
            return exe.get(pid, "")
        pid = parent[pid]
    return ""


def lines_read_by_repls(strace_out: Path) -> list[str]:
    """The lines REPLs (python3, sqlite3...) read from their terminal, keystroke by keystroke
    (readline reads one key at a time), joined at each Enter, DEL erasing the key before it."""
    if not strace_out.exists():
        return []
    lines = strace_out.read_text(errors="replace").splitlines()
    parent = {m.group(2): m.group(1) for m in map(_CHILD.match, lines) if m}
    exe: dict[str, str] = {}
    typed: dict[str, bytearray] = {}
    found: list[str] = []
    for line in lines:
        m = _EXEC.match(line)
        if m:
            strings = _HEX.findall(m.group(2).split("], ", 1)[0])
            if strings:
                exe[m.group(1)] = _unhex(strings[0])
            continue
        r = _READ.match(line)
        if not r or _program(_exe_of(r.group(1), exe, parent)) not in REPLS:
            continue
        buf = typed.setdefault(r.group(1), bytearray())
        for b in bytes.fromhex(r.group(2).replace("\\x", "")):
            if b in (0x0D, 0x0A):
                if buf.strip():
                    found.append(buf.decode(errors="replace"))
                buf.clear()
            elif b == 0x7F:
                if buf:
                    buf.pop()
            else:
                buf.append(b)
    return found
