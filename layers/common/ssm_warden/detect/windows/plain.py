"""PowerShell commands of plain words, read without the parser.

Most commands typed at a prompt are a name and a few words (``Get-Service w3svc``, ``ipconfig
/all``, ``C:\\Windows\\System32\\certutil.exe -urlcache -f http://x a.exe``). For those the syntax
tree holds one command whose arguments are the words as typed, so parsing it (the larger part of
reading it) can be skipped. Which texts qualify is narrow on purpose: letters, digits and ``_ . \\
: / -`` only, separated by spaces; no argument that the grammar reads as something else (a number,
``-a:b``, a keyword such as ``if`` first). ``tests/unit/detect/windows/test_shortcuts.py`` holds the
result against the parser's on generated text built from the pieces that matter.
"""

from __future__ import annotations

import re

# A first word starting with a letter; then words that are not parameters (and start with neither a
# digit nor ":"), or parameters of letters, "_" and "-" (the grammar splits "-a:b", and "-x1" is an
# error there).
_PLAIN = re.compile(
    r" *[A-Za-z][A-Za-z0-9_.\\:/-]*(?: +(?:[A-Za-z_./\\][A-Za-z0-9_.\\:/-]*|-[A-Za-z][A-Za-z_-]*))* *"
)
# A digit after a character other than a letter, digit or "_" (a number or a range: "v1.0", "a -1"),
# or after a dash and letters ("param-and1x" reads as an operator and a number).
_NUMBER_LIKE = re.compile(r"[^A-Za-z0-9_ ][0-9]|-[A-Za-z]+[0-9]")
# PowerShell's keywords: one of them first is a statement, not a command; and the grammar reads a
# name that starts with one (``Foreach-Object .a``, ``param-x``) in ways of its own.
_LEADING_LETTERS = re.compile(r"[A-Za-z]+")
KEYWORDS = frozenset(
    {
        "begin",
        "break",
        "catch",
        "class",
        "configuration",
        "continue",
        "data",
        "define",
        "do",
        "dynamicparam",
        "else",
        "elseif",
        "end",
        "enum",
        "exit",
        "filter",
        "finally",
        "for",
        "foreach",
        "from",
        "function",
        "hidden",
        "if",
        "in",
        "inlinescript",
        "parallel",
        "param",
        "process",
        "return",
        "sequence",
        "static",
        "switch",
        "throw",
        "trap",
        "try",
        "until",
        "using",
        "var",
        "while",
        "workflow",
    }
)


def plain_words(text: str) -> list[str] | None:
    """The words of ``text`` when it is one command of plain words, else None (parse it)."""
    if _PLAIN.fullmatch(text) is None or _NUMBER_LIKE.search(text) is not None:
        return None
    words = text.split()
    if _LEADING_LETTERS.match(words[0]).group().lower() in KEYWORDS:  # type: ignore[union-attr]
        return None
    return words
