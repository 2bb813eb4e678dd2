"""The shapes a parsed command takes before expansion: words made of parts, redirections, commands.

The parser (``shell.tree``) builds them from the tree-sitter parse tree; the expander
(``shell.expand``) turns them into argument vectors. They keep only what expansion needs: which
parts were quoted, what kind of expansion each part is, and the raw text for messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

PartKind = Literal["lit", "param", "subst", "arith", "procsub"]


@dataclass(slots=True)
class Part:
    """One piece of a word: literal text, ``$name``/``${…}``, ``$(…)``, ``$((…))`` or ``<(…)``."""

    kind: PartKind
    text: str
    quoted: bool


@dataclass(slots=True)
class Word:
    parts: list[Part]
    raw: str


@dataclass(slots=True)
class Redir:
    """A redirection: ``op`` includes the file descriptor (``2>``, ``>>``, ``<<<``, ``<<``)."""

    op: str
    target: Word | None
    heredoc: str | None = None


@dataclass(slots=True)
class Command:
    """A simple command: its words and redirections in the order typed."""

    items: list[Word | Redir] = field(default_factory=list)


# Commands joined by ``|``. Every other separator (``;``, ``&&``, ``||``, ``&``, newline) ends one.
Pipeline = list[Command]


def literal_word(text: str) -> Word:
    """A word of one unquoted literal (operators and pieces read as words)."""
    return Word([Part("lit", text, False)], text)
