"""Read a command in its shell, then every shell it starts: ``powershell -enc``, ``cmd /c``, IEX.

What a nested shell runs is read into the same ``Reading`` one level deeper, so ``cmd /c
"powershell -nop -enc <base64 of UTF-16LE 'iwr … | iex'>"`` yields the ``invoke-webrequest`` and the
``invoke-expression`` it finally runs, with the nesting itself kept as a fact.
"""

from __future__ import annotations

import re

from ssm_warden.detect.windows.cmd import read_cmd
from ssm_warden.detect.windows.fold import bytes_to_text, decode_base64
from ssm_warden.detect.windows.powershell import read_powershell
from ssm_warden.detect.windows.programs import CMD_HOSTS, POWERSHELL_HOSTS
from ssm_warden.detect.windows.reading import MAX_DEPTH, Command, Reading
from ssm_warden.shells import Shell

MAX_TEXT = 64 * 1024  # longer texts are read this far (and the cut is a fact rules can see)

# powershell.exe parameters that take a value (their unambiguous prefixes are accepted too).
_VALUED = (
    "executionpolicy",
    "windowstyle",
    "version",
    "configurationname",
    "inputformat",
    "outputformat",
    "workingdirectory",
    "psconsolefile",
    "settingsfile",
    "custompipename",
)
_DASHES = "-/\u2013\u2014\u2015"
_DYNAMIC_HOSTS = ("invoke-expression",)
# Every program ``_read_nested`` reads further (its branches below, in one set to test first).
_STARTS_SHELLS = POWERSHELL_HOSTS | CMD_HOSTS | {*_DYNAMIC_HOSTS, "start-process", "schtasks", "wmic", "at"}


def read(text: str, shell: Shell) -> Reading:
    """Everything ``text`` runs when typed at a ``shell`` prompt (posix is read as PowerShell)."""
    reading = Reading()
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT]
        reading.truncated = True
    if shell == "cmd":
        read_cmd(text, reading)
    else:
        read_powershell(text, reading)
    _read_nested(reading, 0)
    return reading


def _read_nested(reading: Reading, start: int) -> None:
    index = start
    commands = reading.commands  # grows as nested shells are read: indexed, not iterated
    while index < len(commands):
        command = commands[index]
        index += 1
        if command.program not in _STARTS_SHELLS or command.depth >= MAX_DEPTH:
            continue
        depth = command.depth + 1
        if command.program in POWERSHELL_HOSTS:
            _powershell_host(command.args, reading, depth)
        elif command.program in CMD_HOSTS:
            _cmd_host(command.args, reading, depth)
        elif command.program in _DYNAMIC_HOSTS:
            payload = " ".join(a for a in command.args if not a.startswith("-"))
            if payload and not payload.startswith("$"):
                read_powershell(payload, reading, depth, "invoke-expression")
        elif command.program == "start-process":
            _start_process(command, reading, depth)
        elif command.program in ("schtasks", "wmic", "at"):
            _scheduled(command, reading, depth)


def host_payload(args: tuple[str, ...]) -> tuple[str | None, str | None]:
    """(script, encoded-script) that ``powershell.exe args`` runs, as its own parser reads them."""
    i = 0
    while i < len(args):
        arg = args[i]
        if arg and arg[0] in _DASHES and len(arg) > 1:
            name = arg[1:].lower().lstrip(_DASHES)
            name, _, inline = name.partition(":")
            if name in ("e", "ec") or (len(name) >= 2 and "encodedcommand".startswith(name)):
                value = inline or (args[i + 1] if i + 1 < len(args) else "")
                return None, value
            if name and "command".startswith(name):
                return " ".join(args[i + 1 :]), None
            if name and "file".startswith(name):
                rest = args[i + 1 :]
                return (" ".join(("&", *rest)) if rest else None), None
            if name in ("ep", "ex", "w", "win", "v") or any(
                len(name) >= 3 and full.startswith(name) for full in _VALUED
            ):
                i += 2
                continue
            i += 1
            continue
        return " ".join(args[i:]), None
    return None, None


def _powershell_host(args: tuple[str, ...], reading: Reading, depth: int) -> None:
    script, encoded = host_payload(args)
    if encoded is not None:
        reading.obfuscation.append("encoded")  # even when what follows cannot be decoded here
    if encoded:
        data = decode_base64(encoded)
        if data:
            decoded = bytes_to_text(data, "unicode")
            if not _looks_textual(decoded):
                decoded = bytes_to_text(data, "utf8")
            reading.decoded.append(decoded.lower())
            read_powershell(decoded, reading, depth, "encoded-command")
    if script:
        read_powershell(script, reading, depth, "powershell-command")


def _looks_textual(text: str) -> bool:
    if not text:
        return False
    printable = sum(1 for ch in text if ch.isprintable() or ch in "\r\n\t")
    return printable / len(text) > 0.9


_CMD_SWITCH = re.compile(r"^/[ckr]\b", re.IGNORECASE)


def _cmd_host(args: tuple[str, ...], reading: Reading, depth: int) -> None:
    for i, arg in enumerate(args):
        if _CMD_SWITCH.match(arg):
            rest = [arg[2:].strip(), *args[i + 1 :]]
            script = " ".join(a for a in rest if a)
            if len(script) >= 2 and script[0] == '"' and script[-1] == '"':
                script = script[1:-1]
            if script:
                read_cmd(script, reading, depth, "cmd-c")
            return


def _start_process(command: Command, reading: Reading, depth: int) -> None:
    """``Start-Process powershell -ArgumentList '-enc …'`` runs powershell with those arguments."""
    target: str | None = None
    arguments: list[str] = []
    args = list(command.args)
    i = 0
    while i < len(args):
        arg = args[i]
        low = arg.lower()
        if low.startswith("-") and len(low) > 1:
            name = low[1:]
            if "filepath".startswith(name) and i + 1 < len(args):
                target = args[i + 1]
                i += 2
                continue
            if ("argumentlist".startswith(name) or name == "args") and i + 1 < len(args):
                arguments.extend(args[i + 1].split(","))
                i += 2
                continue
            i += 1 if name in ("wait", "nonewwindow", "passthru", "usenewenvironment") else 2
            continue
        if target is None:
            target = arg
        else:
            arguments.append(arg)
        i += 1
    if not target:
        return
    text = " ".join([_quote(target), *(a.strip() for a in arguments)])
    read_powershell(text, reading, depth, "start-process")


def _quote(target: str) -> str:
    return f"& '{target}'" if " " in target else target


def _scheduled(command: Command, reading: Reading, depth: int) -> None:
    """The command a scheduled task or ``wmic process call create`` will run, read as cmd."""
    args = [a.lower() for a in command.args]
    payload: str | None = None
    if command.program == "schtasks" and "/tr" in args:
        i = args.index("/tr")
        payload = command.args[i + 1] if i + 1 < len(args) else None
    elif command.program == "wmic" and "create" in args:
        i = args.index("create")
        payload = " ".join(command.args[i + 1 :])
    if payload:
        read_cmd(payload.strip('"'), reading, depth, command.program)
