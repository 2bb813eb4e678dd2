"""Facts about what a Windows command does, derived from its reading; rules are conditions on these.

Each fact field is a list of short lower-case strings, one per thing observed:

- ``command``: each command run, ``program arg arg`` (``reg save hklm\\sam c:\\t\\s``);
- ``program``: each program or cmdlet name (canonical);
- ``pipeline``: each pipeline's commands joined by `` | ``;
- ``script``: every text read (as typed, each payload decoded, each string folding built) and each
  .NET call (``net.webclient.downloadstring``) — for what only shows in the whole;
- ``path``: each file or registry path an argument names, registry hives spelled one way
  (``hklm\\sam``, ``hkcu\\software\\microsoft\\windows\\currentversion\\run``);
- ``url``: each network destination (``http://…``, ``\\\\host\\share``, bare IPv4 addresses);
- ``service_stopped``: each service a command stops, disables or deletes;
- ``behavior``: what the reading itself shows: ``encoded-command``, ``nested:<n>``, ``truncated``,
  ``fetched-then-run``, ``obfuscated:<how>`` (one line each, in one value).

``script`` and ``behavior`` are one value each (lines joined), so a rule reads them in one pass;
an ``unless`` on them therefore holds anywhere in the text.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from ssm_warden.detect.windows.reading import Command, Reading

FIELDS = ("command", "program", "pipeline", "script", "path", "url", "service_stopped", "behavior")

_HIVES = (
    (re.compile(r"^(?:registry::)?(?:hkey_local_machine|hklm:?)(?=\\|$)", re.I), "hklm"),
    (re.compile(r"^(?:registry::)?(?:hkey_current_user|hkcu:?)(?=\\|$)", re.I), "hkcu"),
    (re.compile(r"^(?:registry::)?(?:hkey_users|hku:?)(?=\\|$)", re.I), "hku"),
    (re.compile(r"^(?:registry::)?(?:hkey_classes_root|hkcr:?)(?=\\|$)", re.I), "hkcr"),
)
_PATHLIKE = re.compile(r"^(?:[a-z]:|\\\\|\.{0,2}\\|%|\$env:|hk|registry::)", re.I)
_URL = re.compile(r"(?:https?|ftp)s?://[^\s'\"<>)]+|\\\\[a-z0-9_.\-$]+\\[^\s'\"]*", re.I)
# Zero-width and bidirectional-override characters: names that read differently than they run.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
_BACKSLASHES = re.compile(r"\\{2,}")
_DIGIT_DOT_DIGIT = re.compile(r"\d\.\d")


class Facts(NamedTuple):
    """The facts of one judged text (a named tuple: immutable, and cheap to build)."""

    command: tuple[str, ...]
    program: tuple[str, ...]
    pipeline: tuple[str, ...]
    script: tuple[str, ...]
    path: tuple[str, ...]
    url: tuple[str, ...]
    service_stopped: tuple[str, ...]
    behavior: tuple[str, ...]

    def field(self, name: str) -> tuple[str, ...]:
        value: tuple[str, ...] = getattr(self, name)
        return value


def normalise_path(text: str) -> str:
    path = text.strip().strip("'\"").replace("/", "\\")
    # Every hive pattern is anchored at a "registry::" or "hk" prefix: no other path can change.
    if path[:2].lower() in ("hk", "re"):
        for pattern, hive in _HIVES:
            path = pattern.sub(hive, path, count=1)
    if "\\\\" not in path or path.startswith("\\\\"):
        return path  # no run of backslashes to fold (or a UNC path, kept as written)
    return _BACKSLASHES.sub(r"\\", path)


def ipv4_addresses(text: str) -> list[str]:
    """Every dotted-quad address in ``text``, in order (``_IPV4.findall``, for less)."""
    # One has three dots and a digit, a dot, a digit: most texts have neither, and checking that
    # costs a fraction of the search (whose leading ``\b`` defeats the regex engine's fast scan).
    if text.count(".") < 3 or _DIGIT_DOT_DIGIT.search(text) is None:
        return []
    return _IPV4.findall(text)


def _unique(values: list[str]) -> tuple[str, ...]:
    """``values`` without repeats, in first-seen order (most lists have one value or none)."""
    return tuple(dict.fromkeys(values)) if len(values) > 1 else tuple(values)


def facts_of(reading: Reading, programs: bool = True) -> Facts:
    """The facts of ``reading``; ``programs=False`` leaves the ``program`` field empty (for a
    detector none of whose rules reads it)."""
    commands = reading.commands
    line_of = [_line(c) for c in commands]
    pipelines: dict[int, list[str]] = {}
    paths: list[str] = []
    for c, line in zip(commands, line_of, strict=True):
        pipelines.setdefault(c.pipeline, []).append(line)
        for arg in c.args:
            if "\\" not in arg and ":" not in arg:
                continue
            for piece in _split_value(arg):
                if _PATHLIKE.match(piece):
                    paths.append(normalise_path(piece).lower().replace("\n", " "))
    texts = (*reading.texts, *reading.decoded)
    urls: list[str] = []
    for text in texts:
        if "://" in text or "\\\\" in text:
            urls.extend([m.group(0).lower() for m in _URL.finditer(text)])
        urls.extend(ipv4_addresses(text))
    behavior: list[str] = []
    if reading.decoded:
        behavior.append("encoded-command")
    if reading.nesting:
        behavior.append(f"nested:{reading.nesting}")
    if reading.truncated:
        behavior.append("truncated")
    for t in texts:
        if not t.isascii() and _INVISIBLE.search(t):
            reading.obfuscation.append("invisible-char")
            break
    if reading.obfuscation:
        behavior.extend([f"obfuscated:{kind}" for kind in dict.fromkeys(reading.obfuscation)])
    if _fetched_then_run(commands, texts):
        behavior.append("fetched-then-run")
    stopped = [
        s.replace("\n", " ")
        for c in commands
        if c.program in _STOPPERS  # _stopped_services' own first test, done here
        for s in _stopped_services(c)
    ]
    return Facts(
        _unique(line_of),
        _unique([c.program.replace("\n", " ") for c in commands]) if programs else (),
        _unique([" | ".join(p) for p in pipelines.values() if len(p) > 1]),
        # One text: script patterns may span statements, and one RE2 pass reads it all.
        ("\n".join(dict.fromkeys((*texts, *reading.calls))),),
        _unique(paths),
        _unique(urls),
        _unique(stopped),
        ("\n".join(behavior),) if behavior else (),
    )


_SLASHED_PATH = re.compile(r"^(?:[a-z]:[\\/]|%\w+%[\\/]|\$env:\w+[\\/]|\\\\)", re.I)


def _arg_view(arg: str) -> str:
    # Registry paths spelled one way inside the command line too ("reg save hklm\sam …"), and
    # file paths with Windows separators ("C:/Windows/system32/config/SAM" is the same file).
    if arg[:2].lower() in ("hk", "re"):
        return normalise_path(arg)
    if "/" in arg and _SLASHED_PATH.match(arg):  # without a "/" there is nothing to replace
        return arg.replace("/", "\\")
    return arg


def _line(command: Command) -> str:
    # One line per value (a multi-line argument reads as the terminal shows it, spaces between).
    # Most arguments have no "/" and start with neither "hk" nor "re" (no other first character
    # lower-cases to "h" or "r"): those are their own view, without the call.
    views = [_arg_view(a) if "/" in a or a[:1] in "hHrR" else a for a in command.args]
    line = " ".join([command.program, *views]).lower()
    return line.replace("\n", " ") if "\n" in line else line


def _split_value(arg: str) -> list[str]:
    # -Path:C:\x and name=value arguments carry the path after the separator.
    if arg.startswith("-") and ":" in arg[2:]:
        return [arg.split(":", 1)[1]]
    if "," not in arg and ";" not in arg:
        return [arg]
    return [p for p in re.split(r"[,;]", arg) if p] or [arg]


_STOPPERS = frozenset(
    {"stop-service", "remove-service", "set-service", "sc", "net", "taskkill", "stop-process"}
)
_DOWNLOADERS = frozenset(
    {"invoke-webrequest", "invoke-restmethod", "start-bitstransfer", "curl", "wget", "certutil", "bitsadmin"}
)


def _stopped_services(command: Command) -> list[str]:
    program = command.program
    if program not in _STOPPERS:
        return []
    args = [a.lower() for a in command.args]
    if program in ("stop-service", "remove-service"):
        return [a for a in args if not a.startswith("-")] or ["?"]
    if program == "set-service":
        if any(a in ("disabled", "stopped") for a in args):
            return [a for a in args if not a.startswith("-") and a not in ("disabled", "stopped")]
        return []
    if program == "sc" and len(args) >= 2 and args[0] in ("stop", "delete", "config", "pause"):
        if args[0] == "config" and not any("disabled" in a for a in args):
            return []
        return [args[1]]
    if program == "net" and len(args) >= 2 and args[0] == "stop":
        return [" ".join(args[1:])]
    if program in ("taskkill", "stop-process"):
        return [a for a in args if not a.startswith(("-", "/"))]
    return []


_DOWNLOAD_FILE_CALL = re.compile(r"downloadfile(?:async|taskasync)?\(\s*['\"]?[^,]+,\s*['\"]?([^'\")]+)")
_INSPECTORS = frozenset(
    {
        "get-filehash",
        "get-item",
        "get-itemproperty",
        "test-path",
        "get-authenticodesignature",
        "unblock-file",
        "remove-item",
        "copy-item",
        "move-item",
        "rename-item",
        "get-content",
        "get-childitem",
        "certutil",
        "write-output",
        "write-host",
        "del",
        "dir",
        "echo",
        "type",
        "expand-archive",
        "set-content",
        "out-file",
        "get-acl",
        "icacls",
    }
)


def _basename(path: str) -> str:
    return path.strip().strip("'\"").replace("/", "\\").rsplit("\\", 1)[-1].lower()


def _download_targets(command: Command) -> list[str]:
    """Files a download command writes: -OutFile, -Destination, certutil/bitsadmin's last argument."""
    if command.program not in _DOWNLOADERS:
        return []
    args = list(command.args)
    low = [a.lower() for a in args]
    program = command.program
    targets: list[str] = []
    if program in ("invoke-webrequest", "invoke-restmethod", "start-bitstransfer", "curl", "wget"):
        for i, a in enumerate(low):
            if i + 1 < len(args) and (
                (a.startswith("-o") and "-outfile".startswith(a.split(":")[0]))
                or (a.startswith("-d") and "-destination".startswith(a))
                or a in ("--output", "-o")
            ):
                targets.append(args[i + 1])
        if program == "start-bitstransfer":
            positional = [a for a in args if not a.startswith("-")]
            targets.extend(positional[1:2])
    elif program == "certutil" and any(a.lstrip("-/") in ("urlcache", "verifyctl") for a in low):
        positional = [a for a in args if not a.startswith(("-", "/"))]
        if len(positional) >= 2 and "://" in positional[-2]:
            targets.append(positional[-1])
    elif program == "bitsadmin" and any(a in ("/transfer", "/addfile") for a in low):
        positional = [a for a in args if not a.startswith("/")]
        if positional:
            targets.append(positional[-1])
    return [_basename(t) for t in targets if t.strip()]


def _fetched_then_run(commands: list[Command], texts: tuple[str, ...]) -> bool:
    downloaded: set[str] = set()
    first_download = len(commands)
    for index, command in enumerate(commands):
        if command.program not in _DOWNLOADERS:  # _download_targets' own first test, done here
            continue
        names = _download_targets(command)
        if names:
            downloaded.update(names)
            first_download = min(first_download, index)
    for text in texts:
        if "downloadfile" not in text:
            continue
        for m in _DOWNLOAD_FILE_CALL.finditer(text):
            downloaded.add(_basename(m.group(1)))
            first_download = 0
    downloaded.discard("")
    if not downloaded:
        return False
    stems = {n.rsplit(".", 1)[0] for n in downloaded if "." in n}
    for command in commands[first_download + 1 :] if first_download < len(commands) else commands:
        if command.program in _INSPECTORS or _download_targets(command):
            continue
        if command.program in stems or command.program in downloaded:
            return True
        if any(_basename(a) in downloaded for a in command.args):
            return True
    return False
