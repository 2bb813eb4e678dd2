"""Word-level rewrites: a glob that names a well-known path stands for it, numeric host forms become
dotted quads, a program path becomes its base name, an argument is quoted back for a payload."""

from __future__ import annotations

import fnmatch
import re


def quote(arg: str) -> str:
    if not arg or any(c in arg for c in " \t\n'\"\\$`;&|()<>"):
        return "'" + arg.replace("'", "'\\''") + "'"
    return arg


SYSTEM_BIN_DIRS = (
    "/bin/",
    "/sbin/",
    "/usr/bin/",
    "/usr/sbin/",
    "/usr/local/bin/",
    "/usr/local/sbin/",
    "/usr/libexec/",
    "/snap/bin/",
)

# Paths a glob may be written to reach without naming them (/???/c?t /???/s??d?w).
_GLOB_TARGETS = (
    "/etc/shadow",
    "/etc/gshadow",
    "/etc/passwd",
    "/etc/sudoers",
    "/etc/crontab",
    "/bin/sh",
    "/bin/bash",
    "/bin/dash",
    "/bin/cat",
    "/bin/nc",
    "/bin/netcat",
    "/usr/bin/nc",
    "/usr/bin/ncat",
    "/usr/bin/curl",
    "/usr/bin/wget",
    "/usr/bin/python3",
    "/usr/bin/perl",
    "/usr/bin/base64",
    "/usr/bin/socat",
    "~/.aws/credentials",
    "~/.ssh/id_rsa",
    "~/.ssh/id_ed25519",
    "~/.bash_history",
    "/root/.ssh/id_rsa",
    "/root/.ssh/id_ed25519",
    "/root/.aws/credentials",
    "/root/.bash_history",
    "/dev/tcp",
    "/proc/sysrq-trigger",
    "/var/log/auth.log",
    "/var/log/secure",
    "/var/log/syslog",
    "/var/log/messages",
    "/var/log/wtmp",
    "/var/log/btmp",
    "/var/log/lastlog",
)


def resolve_glob(word: str) -> str:
    """A glob that names one well-known sensitive path stands for that path."""
    if len(word) > 256 or word.startswith(("$(", "<(", ">(")):
        return word
    for target in _GLOB_TARGETS:
        if len(target) < len(word) - word.count("*") * 64 or not target.startswith(word[:1]):
            continue
        if fnmatch.fnmatchcase(target, word) and word != target and not word.endswith("/*"):
            return target
    return word


_URL_HOST = re.compile(r"(://(?:[^/@\s]*@)?)(?:\[([0-9a-fA-F:.]+)\]|([0-9a-fA-Fx.]+))(?=[:/?#\s]|$)")


def _ipv4_value(token: str) -> int | None:
    parts = token.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    values: list[int] = []
    for part in parts:
        try:
            if part.lower().startswith("0x"):
                values.append(int(part, 16))
            elif len(part) > 1 and part.startswith("0"):
                values.append(int(part, 8))
            else:
                values.append(int(part, 10))
        except ValueError:
            return None
    limits = {1: [1 << 32], 2: [256, 1 << 24], 3: [256, 256, 1 << 16], 4: [256] * 4}[len(values)]
    if any(v >= lim for v, lim in zip(values, limits, strict=True)):
        return None
    total = 0
    for v, lim in zip(values, limits, strict=True):
        total = total * lim + v
    return total


def _dotted(value: int) -> str:
    return ".".join(str((value >> shift) & 0xFF) for shift in (24, 16, 8, 0))


def _canonical_host(host: str) -> str | None:
    if ":" in host:
        lowered = host.lower()
        if lowered.startswith("::ffff:"):
            rest = lowered[7:]
            if "." in rest:
                return rest
            halves = rest.split(":")
            if len(halves) == 2:
                try:
                    return _dotted((int(halves[0], 16) << 16) | int(halves[1], 16))
                except ValueError:
                    return None
        return None
    value = _ipv4_value(host)
    if value is None:
        return None
    canonical = _dotted(value)
    return canonical if canonical != host else None


def canonical_hosts(word: str) -> str:
    """Rewrite numeric host forms (decimal, hex, octal, short, IPv4-mapped IPv6) to dotted quads."""
    if "://" in word:

        def url_repl(m: re.Match[str]) -> str:
            canonical = _canonical_host(m.group(2) or m.group(3))
            return m.group(1) + canonical if canonical else m.group(0)

        word = _URL_HOST.sub(url_repl, word)
    if (word.isdigit() and len(word) >= 8) or (word[:2].lower() == "0x" and "/" not in word):
        canonical = _canonical_host(word)
        if canonical:
            return canonical
    return word


def command_name(word: str) -> str:
    """``/usr/bin/curl`` → ``curl``; ``\\curl`` was already unescaped by the lexer."""
    if "/" in word and not word.endswith("/") and not word.startswith(("$(", "<(", ">(", "!")):
        return word.rsplit("/", 1)[1]
    return word
