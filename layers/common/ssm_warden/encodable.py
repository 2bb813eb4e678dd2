"""Text that can be written as UTF-8: the shell parsers, RE2 and the agent all need it."""

from __future__ import annotations


def encodable(text: str) -> str:
    """``text`` with each lone UTF-16 surrogate as U+FFFD: the shell parser and RE2 read UTF-8,
    which cannot hold one, and a JSON string can (``"\\ud800"``). ASCII text costs one check."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text
