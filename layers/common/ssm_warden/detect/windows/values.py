"""Values folding builds, and the operations on them that PowerShell defines (no code is run).

``+`` on strings and arrays, ``-f`` format strings, ``-join``, ``-replace``, string methods
(``Replace``, ``Substring``, ``ToLower`` …), base64 and text encodings, and how a value becomes
a string.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

# A folded value: a string, an integer, a byte string (from FromBase64String), a list of those
# (array literals, [char[]] casts), or a hashtable (splatting).
Value = str | int | bytes | list[Any] | dict[str, Any]

# Backtick escapes inside double-quoted strings (about_Special_Characters).
_BACKTICK = {"0": "\0", "a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
_BACKTICK_ESCAPE = re.compile(r"`(.)", re.DOTALL)


def strip_backticks(text: str) -> str:
    """What a bare word means once PowerShell drops its escape characters: ``i`e`x`` is ``iex``."""
    if "`" not in text:
        return text
    return _BACKTICK_ESCAPE.sub(lambda m: _BACKTICK.get(m.group(1), m.group(1)), text)


def as_text(value: Value | None) -> str | None:
    """A folded value as PowerShell would turn it into a string (arrays joined by spaces)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, bytes):
        return None
    if isinstance(value, list):
        parts = [as_text(v) for v in value]
        if any(p is None for p in parts):
            return None
        return " ".join(p for p in parts if p is not None)
    return None


def decode_base64(text: str) -> bytes | None:
    cleaned = re.sub(r"\s+", "", text)
    if not cleaned:
        return None
    try:
        return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4), validate=False)
    except (binascii.Error, ValueError):
        return None


def bytes_to_text(data: bytes, encoding: str) -> str:
    """Decode like [Text.Encoding]::<encoding>.GetString; errors are replaced, never raised."""
    codec = {
        "unicode": "utf-16-le",
        "bigendianunicode": "utf-16-be",
        "utf8": "utf-8",
        "ascii": "ascii",
        "default": "utf-8",
        "utf32": "utf-32-le",
        "utf7": "utf-7",
    }.get(encoding.lower(), "utf-8")
    return data.decode(codec, "replace")


def char_of(code: int) -> str | None:
    return chr(code) if 0 <= code < 0x110000 else None


def bytes_of(values: list[Any]) -> bytes | None:
    if all(isinstance(v, int) and 0 <= v < 256 for v in values):
        return bytes(values)
    return None


def add_values(left: Value, right: Value | None) -> Value | None:
    if right is None:
        return None
    if isinstance(left, str):
        text = as_text(right)
        return None if text is None else left + text
    if isinstance(left, list):
        return left + (right if isinstance(right, list) else [right])
    if isinstance(left, int) and isinstance(right, int):
        return left + right
    return None


_FORMAT_FIELD = re.compile(r"\{(\d+)(?:,[^}:]*)?(?::[^}]*)?\}")


def format_values(template: Value, args: Value | None) -> Value | None:
    if not isinstance(template, str) or args is None:
        return None
    values = args if isinstance(args, list) else [args]
    texts = [as_text(v) for v in values]

    def field(m: re.Match[str]) -> str:
        i = int(m.group(1))
        if i >= len(texts) or texts[i] is None:
            raise IndexError(i)
        return texts[i] or ""

    try:
        return _FORMAT_FIELD.sub(field, template).replace("{{", "{").replace("}}", "}")
    except IndexError:
        return None


def join_values(left: Value, right: Value | None) -> Value | None:
    sep = as_text(right) if right is not None else ""
    if sep is None:
        return None
    items = left if isinstance(left, list) else [left]
    parts = [as_text(v) for v in items]
    if any(p is None for p in parts):
        return None
    return sep.join(p or "" for p in parts)


def replace_values(left: Value, right: Value | None, op: str) -> Value | None:
    if not isinstance(left, str):
        return None
    pair = right if isinstance(right, list) else [right, ""]
    if len(pair) == 1:
        pair = [pair[0], ""]
    pattern, replacement = as_text(pair[0]), as_text(pair[1])
    if pattern is None or replacement is None:
        return None
    flags = 0 if op == "-creplace" else re.IGNORECASE
    try:
        return re.sub(pattern, replacement.replace("$", "\\"), left, flags=flags)
    except (re.error, IndexError):
        return left.replace(pattern, replacement)


def string_method(target: Value | None, method: str, args: list[Value]) -> Value | None:
    if not isinstance(target, str):
        return None
    texts = [as_text(a) for a in args]
    if method == "replace" and len(texts) == 2 and texts[0] is not None and texts[1] is not None:
        return target.replace(texts[0], texts[1])
    if method in ("tolower", "tolowerinvariant"):
        return target.lower()
    if method in ("toupper", "toupperinvariant"):
        return target.upper()
    if method == "trim" and not args:
        return target.strip()
    if method == "substring" and args and all(isinstance(a, int) for a in args):
        start = int(args[0])  # type: ignore[arg-type]
        end = start + int(args[1]) if len(args) > 1 else None  # type: ignore[arg-type]
        return target[start:end]
    if method == "split" and len(texts) == 1 and texts[0]:
        return target.split(texts[0])
    if method == "tochararray" and not args:
        return list(target)
    return None
