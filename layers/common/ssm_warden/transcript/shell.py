"""Is a command line finished, or will the shell ask for more (``> `` / ``>> ``)? Pure.

The terminal shows the shell's continuation prompt when the input so far is incomplete: an open
quote, a trailing backslash or pipe, an open ``if``/``for``/``case``/``{``/``(``, or a here-document
whose body comes next. This scanner answers that question well enough to join continuation lines to
the command they belong to; it is not a parser (the detector normalises the joined command).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Fast path: without quotes, escapes, groups, comments, here-documents or compound keywords, only a
# trailing ``|``/``&&``/``||`` leaves a command open.
_NEEDS_SCAN = re.compile(r"""['"\\`(){}#\n]|<<|(?:^|[;&|])\s*(?:if|case|for|while|until|select)\b""")
_OPENERS = {"if": "fi", "case": "esac", "for": "done", "while": "done", "until": "done", "select": "done"}
_CLOSERS = {"fi", "esac", "done"}
# After these words the next word is again in command position.
_RESET_WORDS = {"then", "do", "else", "elif", "!", "time", "{"}
_HEREDOC = re.compile(r"<<(-?)[ \t]*(?:'([^']*)'|\"([^\"]*)\"|\\?([^\s;&|<>()'\"]+))")


@dataclass(frozen=True)
class Heredoc:
    delimiter: str
    strip_tabs: bool  # ``<<-``: leading tabs (spaces, once the agent has expanded them) are ignored


@dataclass
class ShellScan:
    complete: bool
    heredocs: list[Heredoc] = field(default_factory=list)


def scan_posix(text: str) -> ShellScan:
    """Whether ``text`` (a command, possibly of several lines, here-document bodies excluded) is
    complete, and the here-documents it opens, in order."""
    if not _NEEDS_SCAN.search(text):
        tail = text.rstrip()
        return ShellScan(complete=not tail.endswith(("|", "&&")))
    quote: str | None = None
    depth = 0  # ( ) and $( ) nesting
    blocks: list[str] = []  # closers expected: fi, done, esac, }
    heredocs: list[Heredoc] = []
    command_position = True
    word: list[str] = []
    dangling = False  # the last token was | or && or ||: the pipeline or list goes on
    i, n = 0, len(text)

    def end_word() -> None:
        nonlocal command_position
        if not word:
            return
        token = "".join(word)
        word.clear()
        if command_position:
            if token in _OPENERS:
                blocks.append(_OPENERS[token])
            elif token == "{":
                blocks.append("}")
            elif (token in _CLOSERS or token == "}") and blocks and blocks[-1] == token:
                blocks.pop()
        command_position = token in _RESET_WORDS

    while i < n:
        c = text[i]
        if quote == "'":
            if c == "'":
                quote = None
            i += 1
            continue
        if quote in ('"', "`"):
            if c == "\\":
                i += 2
                continue
            if c == quote:
                quote = None
            i += 1
            continue
        if c == "\\":
            if i + 1 >= n:
                return ShellScan(complete=False, heredocs=heredocs)  # line continuation
            word.append(text[i : i + 2])
            dangling = False
            i += 2
            continue
        if c in "'\"`":
            quote = c
            word.append(c)
            dangling = False
        elif c == "#" and not word:
            nl = text.find("\n", i)
            i = n if nl < 0 else nl
            continue
        elif c == "<" and text.startswith("<<<", i):
            end_word()
            i += 3  # a here-string: no body follows
            continue
        elif c == "<" and text.startswith("<<", i):
            end_word()
            m = _HEREDOC.match(text, i)
            if m:
                delimiter = next(g for g in (m.group(2), m.group(3), m.group(4)) if g is not None)
                heredocs.append(Heredoc(delimiter, strip_tabs=m.group(1) == "-"))
                i = m.end()
                command_position = False
                continue
            i += 2
            continue
        elif c in " \t":
            end_word()
        elif c in ";&|\n":
            end_word()
            command_position = True
            if c == "|" or text.startswith("&&", i):
                dangling = True
                i += 2 if text.startswith(("||", "&&"), i) else 1
                continue
            if c != "\n":
                dangling = False
        elif c == "(":
            end_word()
            if "esac" not in blocks:
                depth += 1
            command_position = True
        elif c == ")":
            end_word()
            if "esac" not in blocks and depth > 0:
                depth -= 1
            command_position = True  # ``f() {`` opens a body
        else:
            word.append(c)
        if c not in " \t\n":
            dangling = False
        i += 1
    end_word()
    complete = quote is None and depth == 0 and not blocks and not dangling
    return ShellScan(complete=complete, heredocs=heredocs)


def scan_powershell(text: str) -> bool:
    """Whether a PowerShell input is complete: quotes, here-strings, braces and parentheses closed,
    no trailing backtick or pipe."""
    quote: str | None = None
    depth = 0
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if quote in {"@'", '@"'}:
            if text.startswith(quote[1] + "@", i) and (i == 0 or text[i - 1] == "\n"):
                quote = None
                i += 2
                continue
            i += 1
            continue
        if quote is not None:
            if c == "`" and quote == '"':
                i += 2
                continue
            if c == quote:
                quote = None
            i += 1
            continue
        if c == "`":
            if i + 1 >= n or text[i + 1] == "\n":
                return False
            i += 2
            continue
        if c == "@" and i + 1 < n and text[i + 1] in "'\"" and text[i + 2 : i + 3] in ("\n", ""):
            quote = "@" + text[i + 1]
            i += 2
            continue
        if c in "'\"":
            quote = c
        elif c == "#":
            nl = text.find("\n", i)
            i = n if nl < 0 else nl
            continue
        elif c in "({[":
            depth += 1
        elif c in ")}]" and depth > 0:
            depth -= 1
        i += 1
    if quote is not None or depth > 0:
        return False
    return not text.rstrip().endswith("|")
