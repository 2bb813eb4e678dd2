"""Pure text decoders the expander applies where a command decodes a literal: ANSI-C escapes
(``$'\\x69d'``, ``echo -e``, ``printf``), base64 / base32 / hex / gzip, ``rev`` and ``tr``.

Each takes text and returns text, or None when the input is not what it claims to be; none of them
runs anything. They are the de-obfuscation transformations ``shell.expand`` applies to the parse tree.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import re
import zlib

_ANSI_C = re.compile(r"\\(x[0-9A-Fa-f]{1,2}|u[0-9A-Fa-f]{1,4}|U[0-9A-Fa-f]{1,8}|[0-7]{1,3}|c.|.)", re.DOTALL)
_ANSI_SIMPLE = {
    "a": "\a",
    "b": "\b",
    "e": "\x1b",
    "E": "\x1b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "?": "?",
}
B64_TOKEN = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")
_CRON_SCHEDULE = re.compile(r"^\s*(?:@\w+|(?:[\d*/,-]+\s+){5})")
HEX_TOKEN = re.compile(r"(?:[0-9A-Fa-f]{2}){8,}")
DECODE_HINT = re.compile(
    r"base64|b64decode|b64_decode|atob|frombase64|decode64|unpack|base32|xxd|fromhex|unhexlify"
)


def ansi_c_decode(body: str) -> str:
    """Decode the body of a ``$'…'`` string (also used for ``echo -e`` and ``printf``)."""

    def repl(m: re.Match[str]) -> str:
        esc = m.group(1)
        head = esc[0]
        try:
            if head == "x":
                return chr(int(esc[1:], 16))
            if head in "uU":
                return chr(int(esc[1:], 16))
            if head.isdigit():
                return chr(int(esc, 8) & 0xFF)
        except (ValueError, OverflowError):
            return esc
        if head == "c" and len(esc) == 2:
            return chr(ord(esc[1]) & 0x1F)
        return _ANSI_SIMPLE.get(esc, "\\" + esc)

    return _ANSI_C.sub(repl, body)


def _printable(text: str) -> bool:
    if not text:
        return False
    good = sum(1 for c in text if c.isprintable() or c in "\n\t\r")
    return good >= 0.95 * len(text)


def b64_text(token: str) -> str | None:
    stripped = token.rstrip("=")
    if len(stripped) < 12:
        return None
    for alt in (None, b"-_"):
        try:
            padded = stripped + "=" * (-len(stripped) % 4)
            raw = base64.b64decode(padded, altchars=alt, validate=True)
        except (binascii.Error, ValueError):
            continue
        text = _bytes_text(raw)
        if text is not None:
            return text
    return None


def hex_text(token: str) -> str | None:
    try:
        raw = bytes.fromhex(token)
    except ValueError:
        return None
    return _bytes_text(raw)


def _bytes_text(raw: bytes) -> str | None:
    if raw[:2] == b"\x1f\x8b" or raw[:1] == b"\x78":
        with contextlib.suppress(zlib.error):
            raw = zlib.decompress(raw, 47)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not _printable(text) or not any(c in text for c in " /;|.=("):
        return None
    return text


# Pure text filters a pipeline can feed a literal through.
def evaluate_filters(argvs: list[list[str]]) -> str | None:
    """``echo X | base64 -d | …``: the text the first stages produce, when they are all pure."""
    first = argvs[0]
    value = literal_output(first)
    if value is None:
        return None
    changed = False
    for argv in argvs[1:]:
        step = apply_filter(argv, value)
        if step is None:
            break
        if step != value:
            changed = True
        value = step
    return value if changed else None


def literal_output(argv: list[str]) -> str | None:
    if not argv:
        return None
    name = argv[0]
    here = next((a[4:] for a in argv if a.startswith("<<< ")), None)
    if here is not None:
        return here
    if name == "echo":
        args = argv[1:]
        interpret = False
        while args and args[0].startswith("-") and set(args[0][1:]) <= set("neE") and len(args[0]) > 1:
            interpret = interpret or "e" in args[0]
            args = args[1:]
        text = " ".join(a for a in args if not a.startswith((">", "<", "2>")))
        return ansi_c_decode(text) if interpret else text
    if name == "printf":
        args = [a for a in argv[1:] if not a.startswith((">", "<", "2>"))]
        if args and args[0] == "--":
            args = args[1:]
        if not args:
            return None
        fmt = args[0]
        if "%" in fmt:
            rest = args[1:]
            fmt = fmt.replace("%s", "\x01").replace("%b", "\x01")
            out = ansi_c_decode(fmt)
            for value in rest:
                out = out.replace("\x01", value, 1)
            return out.replace("\x01", "")
        return ansi_c_decode(fmt)
    return None


def apply_filter(argv: list[str], value: str) -> str | None:
    name = argv[0]
    args = argv[1:]
    if name in ("base64", "base32", "basenc") or (name == "openssl" and "base64" in args):
        if not any(
            a in ("-d", "--decode", "-D", "--base64", "-di", "-id") or a.startswith("-d") for a in args
        ):
            return None
        if name == "base32" or "--base32" in args:
            try:
                raw = base64.b32decode("".join(value.split()) + "=" * (-len("".join(value.split())) % 8))
            except (binascii.Error, ValueError):
                return None
        else:
            compact = "".join(value.split())
            try:
                raw = base64.b64decode(compact + "=" * (-len(compact) % 4))
            except (binascii.Error, ValueError):
                return None
        return raw.decode("utf-8", "replace")
    if name == "xxd" and "-r" in " ".join(args):
        compact = re.sub(r"[^0-9A-Fa-f]", "", value)
        try:
            return bytes.fromhex(compact).decode("utf-8", "replace")
        except ValueError:
            return None
    if name == "rev":
        return "\n".join(line[::-1] for line in value.split("\n"))
    if name in ("gunzip", "zcat") or (name == "gzip" and "-d" in args):
        return None
    if name == "tr" and len(args) == 2 and not args[0].startswith("-"):
        src, dst = _tr_set(args[0]), _tr_set(args[1])
        if src and dst:
            dst = dst + dst[-1] * max(0, len(src) - len(dst))
            return value.translate(str.maketrans(src, dst[: len(src)]))
        return None
    return None


def _tr_set(spec: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(spec):
        if i + 2 < len(spec) and spec[i + 1] == "-":
            a, b = ord(spec[i]), ord(spec[i + 2])
            if a <= b and b - a < 256:
                out.extend(chr(c) for c in range(a, b + 1))
            i += 3
            continue
        out.append(spec[i])
        i += 1
    return "".join(out)
