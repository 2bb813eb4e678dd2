"""Shell text in, pipelines of commands out, read by tree-sitter-bash the way a shell reads it.

tree-sitter never fails: malformed input gives ERROR nodes, whose pieces are read as words and
statements anyway (an unbalanced quote is a literal character and the rest is read again), so no
byte of the input is lost to the rules. A few shapes that tree-sitter-bash 0.25 mis-reads are
repaired here: ``3<>file`` and ``<<<word`` after other redirections.

Text made only of plain words and the list / pipeline operators needs no parser: ``shell.plain``
splits it directly (the same result, several times faster; most typed commands are like that).

tree-sitter-bash 0.25.1 reads past its buffer on some four-byte UTF-8 characters after a ``{``
(tree-sitter/tree-sitter-bash#337, open): the process dies with SIGSEGV. The parser is therefore
given a copy in which each character outside the Basic Multilingual Plane is ``§§`` (the same four
bytes long, and like it a word character that names no variable), and the words are read from the
original bytes at the offsets the parser found, so no character is lost or changed.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import tree_sitter_bash
from tree_sitter import Language, Node, Parser

from ssm_warden.detect.shell.decode import ansi_c_decode
from ssm_warden.detect.shell.plain import is_plain, read_plain
from ssm_warden.detect.shell.syntax import Command, Part, Pipeline, Redir, Word, literal_word

_PARAM_NAME = re.compile(r"(?:[A-Za-z_]\w*|[0-9@*#?$!-])\Z")
_UNQUOTED_ESCAPE = re.compile(r"\\(\n|.)", re.DOTALL)
_DQUOTE_ESCAPE = re.compile(r"\\([$`\"\\\n])")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_ASTRAL_STAND_IN = "\u00a7\u00a7"  # two 2-byte characters: an astral character's 4 bytes

_REDIRECTS = frozenset({"file_redirect", "heredoc_redirect", "herestring_redirect"})
_WORDISH = frozenset(
    {
        "word",
        "number",
        "string",
        "raw_string",
        "ansi_c_string",
        "translated_string",
        "simple_expansion",
        "expansion",
        "command_substitution",
        "process_substitution",
        "arithmetic_expansion",
        "concatenation",
        "brace_expression",
        "test_operator",
        "extglob_pattern",
        "regex",
    }
)
_PIPELINE_LEVEL = frozenset(
    {
        "command",
        "pipeline",
        "redirected_statement",
        "declaration_command",
        "unset_command",
        "variable_assignment",
        "variable_assignments",
        "negated_command",
        "test_command",
    }
)
MAX_REPARSE = 8  # ERROR pieces read again, per text


@functools.cache
def _parser() -> Parser:
    return Parser(Language(tree_sitter_bash.language()))


def parse(text: str) -> list[Pipeline]:
    """The pipelines of ``text``, in order. Never raises on malformed shell."""
    if is_plain(text):
        return read_plain(text)
    return parse_tree(text)


def parse_tree(text: str) -> list[Pipeline]:
    """``parse`` without the plain-text shortcut: tree-sitter reads every text (tests compare)."""
    src = text.encode("utf-8", "surrogatepass")
    reader = _Reader(src)
    reader.emit(_tree(text, src))
    return reader.pipelines


def _tree(text: str, src: bytes) -> Node:
    """The syntax tree of ``text`` (``src`` is its UTF-8), parsed from a copy tree-sitter-bash can
    read without crashing: the same bytes but for each astral character (four bytes, as its stand-in
    is). Every parse goes through here. A text of one- to three-byte characters only is passed as it
    is without a search (``src`` is then shorter than ``text`` plus three bytes per astral one)."""
    if len(src) >= len(text) + 3 and _ASTRAL.search(text):
        src = _ASTRAL.sub(_ASTRAL_STAND_IN, text).encode("utf-8", "surrogatepass")
    return _parser().parse(src).root_node


class _Reader:
    def __init__(self, src: bytes, reparse_budget: int = MAX_REPARSE) -> None:
        self.src = src
        self.pipelines: list[Pipeline] = []
        self.reparse_budget = reparse_budget

    def text(self, node: Node) -> str:
        return self.src[node.start_byte : node.end_byte].decode("utf-8", "surrogatepass")

    # -- statements -------------------------------------------------------------------------------
    def emit(self, node: Node) -> None:
        """Read ``node`` at statement level: each statement inside becomes its own pipeline."""
        kind = node.type
        if kind in _PIPELINE_LEVEL:
            commands = self.flow(node)
            if commands:
                self.pipelines.append(commands)
            return
        if kind == "ERROR":
            self._error(node)
            return
        if kind in ("comment", "heredoc_body"):
            return
        if kind == "for_statement":
            header = self._loose_command(node, stop="do_group")
            if header.items:
                self.pipelines.append([header])
        elif kind == "case_statement":
            header = self._loose_command(node, stop="case_item")
            if header.items:
                self.pipelines.append([header])
        for child in node.children:
            if child.is_named and child.type not in _WORDISH:
                self.emit(child)

    def _error(self, node: Node) -> None:
        if node.child_count == 0:
            self._reparse(self.text(node))
            return
        loose = Command()
        glued_to = -1  # end of the last word: a piece starting there belongs to that word
        for child in node.children:
            kind = child.type
            glued = child.start_byte == glued_to and loose.items and isinstance(loose.items[-1], Word)
            if kind == "command_name" or (glued and (kind in _WORDISH or not child.is_named)):
                inner = child.children[0] if kind == "command_name" and child.children else child
                piece = self.word(inner)
                last = loose.items[-1] if loose.items else None
                if glued and isinstance(last, Word):
                    loose.items[-1] = Word(last.parts + piece.parts, last.raw + piece.raw)
                else:
                    loose.items.append(piece)
                glued_to = child.end_byte
                continue
            glued_to = child.end_byte
            if (
                kind in _PIPELINE_LEVEL
                or kind in ("list", "subshell", "compound_statement")
                or (kind.endswith("_statement"))
            ):
                if loose.items:
                    self.pipelines.append([loose])
                    loose = Command()
                self.emit(child)
            elif kind in _WORDISH:
                loose.items.append(self.word(child))
            elif kind in _REDIRECTS:
                loose.items.extend(self.redirs(child))
            elif kind == "ERROR":
                self._error(child)
            elif not child.is_named and kind not in (";", "&", "&&", "||", "|", "\n"):
                loose.items.append(literal_word(self.text(child)))
        if loose.items:
            self.pipelines.append([loose])

    def _reparse(self, text: str) -> None:
        """An ERROR token (an unbalanced quote and what follows): the quote is a literal, the rest
        is read again, as a shell would show it to the user."""
        text = text.strip()
        if not text:
            return
        head, rest = text[0], text[1:]
        if self.reparse_budget <= 0 or head not in "'\"`" or not rest.strip():
            self.pipelines.append([Command([literal_word(w) for w in text.split()])])
            return
        self.reparse_budget -= 1
        inner = _Reader(rest.encode("utf-8", "surrogatepass"), self.reparse_budget)
        inner.emit(_tree(rest, inner.src))
        self.reparse_budget = inner.reparse_budget
        if inner.pipelines and inner.pipelines[0]:
            inner.pipelines[0][0].items.insert(0, literal_word(head))
        self.pipelines.extend(inner.pipelines)

    # -- pipelines ------------------------------------------------------------------------------
    def flow(self, node: Node) -> list[Command]:
        """The commands of ``node`` in the order their output flows (a pipeline's stages)."""
        kind = node.type
        if kind == "command":
            return [self.command(node)]
        if kind == "redirected_statement":
            return self._redirected(node)
        if kind in ("declaration_command", "unset_command", "test_command", "variable_assignments"):
            return [self._loose_command(node)]
        if kind == "variable_assignment":
            return [Command([self.assignment(node)])]
        if kind == "ERROR":
            self._error(node)
            return []
        if kind in ("comment", "heredoc_body") or not node.is_named:
            return []
        if kind in _WORDISH:
            return [Command([self.word(node)])]
        commands: list[Command] = []
        for child in node.children:
            if child.is_named:
                commands.extend(self.flow(child))
        return commands

    def _redirected(self, node: Node) -> list[Command]:
        commands: list[Command] = []
        redirs: list[Redir | Word] = []
        tail: list[Command] = []
        children = node.children
        i = 0
        while i < len(children):
            child = children[i]
            kind = child.type
            if kind in _REDIRECTS:
                redirs.extend(self.redirs(child, tail))
            elif kind == "ERROR" and self.text(child).strip() in ("<<", "<") and i + 1 < len(children):
                nxt = children[i + 1]
                if nxt.type == "file_redirect":  # "<<<word" mis-read as ERROR "<<" + "< word"
                    targets = [self.word(c) for c in nxt.named_children if c.type in _WORDISH]
                    redirs.append(Redir("<<<", targets[0] if targets else None))
                    i += 2
                    continue
                self._error(child)
            elif kind == "ERROR":
                self._error(child)
            elif child.is_named:
                commands.extend(self.flow(child))
            i += 1
        if redirs:
            if not commands:
                commands = [Command()]
            commands[-1].items.extend(redirs)
        return commands + tail

    def command(self, node: Node) -> Command:
        items: list[Word | Redir] = []
        for child in node.children:
            kind = child.type
            if kind == "command_name":
                items.extend(self.word(c) for c in child.children if c.type != "comment")
            elif kind == "variable_assignment":
                items.append(self.assignment(child))
            elif kind in _REDIRECTS:
                items.extend(self.redirs(child))
            elif kind in _WORDISH:
                items.append(self.word(child))
            elif kind == "ERROR":
                items.extend(
                    self.word(c) if c.type in _WORDISH else literal_word(self.text(c))
                    for c in (child.children or [child])
                )
            elif kind == "subshell":  # "cmd (…)" mis-read; keep the words
                items.append(literal_word(self.text(child)))
        return Command(items)

    def _loose_command(self, node: Node, stop: str | None = None) -> Command:
        items: list[Word | Redir] = []
        for child in node.children:
            kind = child.type
            if kind == stop:
                break
            if kind == "variable_assignment":
                items.append(self.assignment(child))
            elif kind in _WORDISH or kind == "variable_name":
                items.append(self.word(child))
            elif kind in _REDIRECTS:
                items.extend(self.redirs(child))
            elif child.child_count and kind not in ("do_group", "case_item", "compound_statement"):
                items.extend(self._loose_command(child).items)
            elif not child.is_named and kind not in (";", "\n", ";;"):
                items.append(literal_word(self.text(child)))
        return Command(items)

    def assignment(self, node: Node) -> Word:
        parts: list[Part] = []
        raw = self.text(node)
        cursor = node.start_byte
        for child in node.children:
            if child.start_byte > cursor:
                parts.append(
                    Part("lit", self.src[cursor : child.start_byte].decode("utf-8", "replace"), False)
                )
            if child.type in _WORDISH:
                parts.extend(self.parts(child, False))
            else:
                parts.append(Part("lit", self.text(child), False))
            cursor = child.end_byte
        return Word(parts, raw)

    # -- redirections -----------------------------------------------------------------------------
    def redirs(self, node: Node, tail: list[Command] | None = None) -> list[Redir | Word]:
        kind = node.type
        if kind == "herestring_redirect":
            targets = [self.word(c) for c in node.named_children if c.type in _WORDISH]
            return [Redir("<<<", targets[0] if targets else None)]
        if kind == "heredoc_redirect":
            return self._heredoc(node, tail)
        op = ""
        target: Word | None = None
        after: list[Word] = []  # "2>/dev/null -exec …": tree-sitter puts later arguments here
        for child in node.children:
            if child.type == "file_descriptor":
                op = self.text(child) + op
            elif child.type in _WORDISH and target is None:
                target = self.word(child)
            elif child.type in _WORDISH:
                after.append(self.word(child))
            elif not child.is_named or child.type == "ERROR":
                op += self.text(child).strip()
        return [Redir(op, target), *after]

    def _heredoc(self, node: Node, tail: list[Command] | None) -> list[Redir | Word]:
        op = "<<"
        delimiter: Word | None = None
        body = ""
        extra: list[Redir | Word] = []
        for child in node.children:
            kind = child.type
            if kind in ("<<", "<<-"):
                op = kind
            elif kind == "heredoc_start":
                delimiter = literal_word(self.text(child).strip("'\""))
            elif kind == "heredoc_body":
                body = self.text(child)
            elif kind in _REDIRECTS:
                extra.extend(self.redirs(child, tail))
            elif child.is_named and kind != "heredoc_end" and tail is not None:
                tail.extend(self.flow(child))  # "cat <<EOF | sh": the pipeline after the operator
        if op == "<<-":
            body = "\n".join(line.lstrip("\t") for line in body.split("\n"))
        return [Redir(op, delimiter, body), *extra]

    # -- words ------------------------------------------------------------------------------------
    def word(self, node: Node) -> Word:
        return Word(self.parts(node, False), self.text(node))

    def parts(self, node: Node, quoted: bool) -> list[Part]:
        kind = node.type
        text = self.text(node)
        if kind == "word":
            return [Part("lit", _UNQUOTED_ESCAPE.sub(_unescape, text) if "\\" in text else text, quoted)]
        if kind == "raw_string":
            return [Part("lit", text[1:-1] if text.endswith("'") and len(text) > 1 else text[1:], True)]
        if kind == "ansi_c_string":
            body = text[2:-1] if text.endswith("'") and len(text) > 2 else text[2:]
            return [Part("lit", ansi_c_decode(body), True)]
        if kind in ("string", "translated_string"):
            return self._string(node)
        if kind == "simple_expansion":
            if not _PARAM_NAME.match(text[1:]):  # "$ file": a dollar sign, not an expansion
                return [Part("lit", text, quoted)]
            return [Part("param", text[1:], quoted)]
        if kind == "expansion":
            return [Part("param", text[2:-1] if text.endswith("}") else text[2:], quoted)]
        if kind == "command_substitution":
            inner = text[2:-1] if text.startswith("$(") else text[1:-1].replace("\\`", "`")
            return [Part("subst", inner, quoted)]
        if kind == "process_substitution":
            return [Part("procsub", text[2:-1], quoted)]
        if kind == "arithmetic_expansion":
            return [Part("arith", text[3:-2], quoted)]
        if kind == "concatenation":
            parts: list[Part] = []
            cursor = node.start_byte
            for child in node.children:
                if child.start_byte > cursor:
                    gap = self.src[cursor : child.start_byte].decode("utf-8", "replace")
                    parts.append(Part("lit", gap, quoted))
                parts.extend(self.parts(child, quoted))
                cursor = child.end_byte
            return parts
        return [Part("lit", text, quoted)]

    def _string(self, node: Node) -> list[Part]:
        parts: list[Part] = []
        for child in node.children:
            kind = child.type
            if kind in ('"', "$", '$"'):
                continue
            if kind == "string_content":
                text = self.text(child)
                parts.append(Part("lit", _DQUOTE_ESCAPE.sub(_unescape, text) if "\\" in text else text, True))
            else:
                parts.extend(self.parts(child, True))
        if not parts:
            parts.append(Part("lit", "", True))
        return parts


def _unescape(m: re.Match[str]) -> str:
    char = m.group(1)
    return "" if char == "\n" else char


def node_count(text: str) -> Any:  # pragma: no cover - a debugging aid for the bench
    return _tree(text, text.encode("utf-8", "surrogatepass")).descendant_count
