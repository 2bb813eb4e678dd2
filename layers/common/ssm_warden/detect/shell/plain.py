"""The plain-text shortcut of the shell reader: text made of ordinary words, simple quotes,
backslash escapes, list and pipeline operators and plain file redirections is split by regular
expressions into the same pipelines tree-sitter would give (``shell.tree.parse`` takes it first).

tests/unit/detect/test_fast_paths.py compares this reading with tree-sitter's on generated text.
"""

from __future__ import annotations

import re

from ssm_warden.detect.shell.syntax import Command, Part, Pipeline, Redir, Word, literal_word

# Plain text: words of ordinary characters, simple quoted strings and backslash escapes (no expansion,
# comment, subshell or negation inside), list and pipeline operators, and plain file redirections.
_PLAIN_CHAR = r"[A-Za-z0-9_./:=,@%+~*?\[\]{}^-]"
# A word with a backslash escape has none of the characters after which tree-sitter-bash 0.25 ends
# a word at a backslash ("[\x" "{\x" are two words to it, one to a shell) and no quotes ("'a'\b"
# likewise), and an escaped blank only inside it (tree-sitter drops a leading "\ ", and "x=\ " is
# an assignment to it). Such words are read by tree-sitter, as before.
_ESCAPED_CHAR = r"[A-Za-z0-9_./:=,+~*?^-]"
_ESCAPE = r"""\\[A-Za-z0-9_./:=,@%+~*?\[\]{}^;|&()<>'"$`\\!#-]"""
_PLAIN_WORD = (
    rf"""(?:(?:{_PLAIN_CHAR}|'[^'\n]*+'|"[^"$`\\\n!]*+")++(?!\\)"""
    rf"""|(?:{_ESCAPED_CHAR}|{_ESCAPE})(?:{_ESCAPED_CHAR}|{_ESCAPE}|(?<!=)\\ )*+(?![\\'"%@\[\]{{}}]))"""
)
# tree-sitter-bash reads a backslash that starts a line as joining it to the line before.
_ESCAPE_AT_LINE_START = re.compile(r"\n[ \t\n]*\\")
_PLAIN_REDIR = r"(?:[0-9]?(?:>>(?![>|&])|>(?![>|&])|<(?![<>&])|>&[0-9-]|<&[0-9-]))"
# Possessive quantifiers: a long text that is not plain fails in linear time.
_PLAIN = re.compile(rf"(?:[ \t]++|\n|\|\||&&|[|;]|&(?![>&])|{_PLAIN_REDIR}|{_PLAIN_WORD})*+\Z")
# Blanks are not tokens: findall steps over them (no token starts with a blank; _PLAIN has checked
# that everything else is one).
_PLAIN_TOKEN = re.compile(rf"(\n|\|\||&&|[|;&])|({_PLAIN_REDIR})|({_PLAIN_WORD})")
_PLAIN_PIECE = re.compile(r"'([^']*)'|\"([^\"]*)\"|\\(.)|([^'\"\\]+)", re.DOTALL)


def is_plain(text: str) -> bool:
    """True when ``text`` is read without tree-sitter (plain words, quotes, escapes, operators)."""
    return _PLAIN.match(text) is not None and not (
        "\\" in text and "\n" in text and _ESCAPE_AT_LINE_START.search(text)
    )


def read_plain(text: str) -> list[Pipeline]:
    pipelines: list[Pipeline] = []
    current: Pipeline = []
    command = Command()
    redir: Redir | None = None
    for operator, redirect, word in _PLAIN_TOKEN.findall(text):
        if operator:
            if command.items:
                current.append(command)
            command = Command()
            if operator != "|" and current:
                pipelines.append(current)
                current = []
        elif redirect:
            if "&" in redirect:  # 2>&1: a descriptor, no target word
                command.items.append(Redir(redirect[:-1], literal_word(redirect[-1])))
                continue
            redir = Redir(redirect, None)
            command.items.append(redir)
        elif word:
            parsed = _plain_word(word)
            if redir is not None and redir.target is None:
                redir.target = parsed
                redir = None
            else:
                command.items.append(parsed)
    if command.items:
        current.append(command)
    if current:
        pipelines.append(current)
    return pipelines


def _plain_word(word: str) -> Word:
    if "'" not in word and '"' not in word and "\\" not in word:
        return literal_word(word)
    # Pieces as tree-sitter reads them: an unquoted run (escapes undone) is one literal part, each
    # quoted string another.
    parts: list[Part] = []
    unquoted: list[str] = []
    for single, double, escaped, bare in _PLAIN_PIECE.findall(word):
        if bare or escaped:
            unquoted.append(bare or escaped)
            continue
        if unquoted:
            parts.append(Part("lit", "".join(unquoted), False))
            unquoted = []
        parts.append(Part("lit", single or double, True))
    if unquoted:
        parts.append(Part("lit", "".join(unquoted), False))
    return Word(parts, word)
