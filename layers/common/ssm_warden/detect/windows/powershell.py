"""Read PowerShell as PowerShell's parser does (tree-sitter-powershell), with folding.

Walks the syntax tree in order, keeps the variables a statement assigns a constant to (so
``$u='http://x'; iwr $u`` reads as ``invoke-webrequest http://x``), and turns every ``command``
node into a ``Command``: the name de-obfuscated (backticks, ``& ('i'+'ex')``, ``. $alias``), the
arguments folded and splatted (``@params``). Method calls become ``calls`` facts.
"""

from __future__ import annotations

import functools
import re

import tree_sitter_powershell
from tree_sitter import Language, Node, Parser, Query, QueryCursor

from ssm_warden.detect.windows.fold import Folder, Value, as_text, strip_backticks, text_of, unwrap
from ssm_warden.detect.windows.plain import plain_words
from ssm_warden.detect.windows.programs import canonical_program
from ssm_warden.detect.windows.reading import Command, Reading

_MAX_NODES = 200_000  # a pathological tree is read this far, never further
MAX_NESTING = 200  # brackets open at once beyond which a text is read word by word
_BRACKETS = re.compile(r"[(){}\[\]]")


def nesting_depth(text: str) -> int:
    """The most brackets open at once (quotes ignored: a bracket in a string only over-counts)."""
    if "(" not in text and "{" not in text and "[" not in text:
        return 0
    depth = deepest = 0
    for m in _BRACKETS.finditer(text):
        if m.group() in "({[":
            depth += 1
            deepest = max(deepest, depth)
        elif depth:
            depth -= 1
    return deepest


@functools.cache
def _language() -> Language:
    return Language(tree_sitter_powershell.language())


@functools.cache
def _parser() -> Parser:
    return Parser(_language())


@functools.cache
def _query() -> Query:
    return Query(
        _language(), "(assignment_expression) @assign (command) @command (invokation_expression) @call"
    )


@functools.cache
def _query_cursor() -> QueryCursor:
    # One per process: ``captures`` returns every capture at once, and no walk starts another
    # while it runs (nested shells are read after the walk that found them).
    return QueryCursor(_query())


_ORDER = {"assign": 0, "command": 1, "call": 2}


def parse(text: str) -> Node:
    return _parser().parse(text.encode("utf-8", "replace")).root_node


def read_powershell(text: str, reading: Reading, depth: int = 0, via: str = "typed") -> Folder:
    """Add what ``text`` runs, read as PowerShell, to ``reading``; return the folder (variables)."""
    folder = Folder()
    words = plain_words(text)
    if words is not None:  # one command of plain words: what its syntax tree would say (plain.py)
        program = canonical_program(words[0], "powershell")
        reading.add(Command(program, tuple(words[1:]), "powershell", reading.next_pipeline(), depth, via))
        reading.texts.append(text.lower())
        return folder
    # No more brackets open at once than there are opening brackets: most texts skip the count.
    opening = text.count("(") + text.count("{") + text.count("[")
    if opening > MAX_NESTING and nesting_depth(text) > MAX_NESTING:
        # Error trees of thousands of open brackets cost the grammar quadratic time; no real
        # command nests this deep, so it is read word by word and the fact is kept.
        reading.obfuscation.append("deep-nesting")
        _read_loosely(text, reading, depth, via)
    else:
        root = parse(text)
        _Walker(reading, folder, depth, via).walk(root)
        if root.has_error:
            _read_loosely(text, reading, depth, via)
    reading.texts.append(strip_backticks(text).lower())
    if folder.folded:
        reading.texts.extend([t.lower() for t in folder.folded if t])
    return folder


class _Walker:
    def __init__(self, reading: Reading, folder: Folder, depth: int, via: str) -> None:
        self.reading = reading
        self.folder = folder
        self.depth = depth
        self.via = via
        self.visited = 0
        self.aliases: dict[str, str] = {}

    def walk(self, root: Node) -> None:
        # The nodes to read are found by a tree-sitter query (in C), then read in document order,
        # so an assignment is known before the commands after it use the variable.
        captures = _query_cursor().captures(root)
        # (start, kind's order, -end, capture order, kind, node): nodes starting at one byte are read
        # outer first (``[a]::b().c()``), as a walk down the tree meets them; tree-sitter returns
        # such captures in no fixed order. The capture order is unique: no node is ever compared.
        nodes = [(n.start_byte, _ORDER[kind], kind, n) for kind, found in captures.items() for n in found]
        if len(nodes) > _MAX_NODES:
            self.reading.truncated = True
            nodes = nodes[:_MAX_NODES]
        ordered = [(start, order, -n.end_byte, i, kind, n) for i, (start, order, kind, n) in enumerate(nodes)]
        ordered.sort()
        pipelines: dict[tuple[int, int], int] = {}
        for *_, kind, node in ordered:
            if kind == "assign":
                self._assign(node)
            elif kind == "command":
                self._command(node, self._pipeline_of(node, pipelines))
            elif kind == "call":
                self._call(node)

    def _pipeline_of(self, node: Node, pipelines: dict[tuple[int, int], int]) -> int:
        parent = node.parent
        while parent is not None and parent.type != "pipeline_chain":
            parent = parent.parent
        key = (parent.start_byte, parent.end_byte) if parent is not None else (-1, -1)
        if key not in pipelines:
            pipelines[key] = self.reading.next_pipeline()
        return pipelines[key]

    def _assign(self, node: Node) -> None:
        children = node.named_children  # one list, read several times below
        left = [c for c in children if c.type == "left_assignment_expression"]
        if not left or len(children) < 3:
            return
        target = unwrap(left[0].named_children[0]) if left[0].named_child_count else None
        if target is None or target.type != "variable":
            return
        name = text_of(target).lstrip("$").strip("{}").lower()
        op = text_of(children[1])
        value = self.folder.value(children[-1])
        if op == "=" and value is not None:
            self.folder.variables[name] = value
            self.folder.remember(value, children[-1])
        elif op == "+=" and value is not None and isinstance(self.folder.variables.get(name), str):
            current = self.folder.variables[name]
            text = as_text(value)
            if isinstance(current, str) and text is not None:
                self.folder.variables[name] = current + text
        else:
            self.folder.variables.pop(name, None)

    def _command(self, node: Node, pipeline: int) -> None:
        name_node = None
        elements: Node | None = None
        name_kind = ""
        for child in node.named_children:
            kind = child.type
            if kind in {"command_name", "command_name_expr"}:
                name_node, name_kind = child, kind
            elif kind == "command_elements":
                elements = child
        if name_node is None:
            return
        hidden = False
        if name_kind == "command_name":
            raw_name = text_of(name_node)
            name = strip_backticks(raw_name)
            if "`" in raw_name:
                self.reading.obfuscation.append("ticked-name")
                hidden = True
            if name.startswith("$"):  # & $x / . $x: the string the variable holds
                held = as_text(self.folder.variables.get(name[1:].strip("{}").lower()))
                name = held if held is not None else name
        else:
            folded = self.folder.value(name_node)
            name = as_text(folded) or strip_backticks(text_of(name_node))
            if isinstance(folded, str):
                self.folder.folded.append(folded)
                if _built(name_node):
                    self.reading.obfuscation.append("built-name")
                    hidden = True
        args = self._arguments(elements) if elements is not None else []
        program = canonical_program(name, "powershell")
        program = self.aliases.get(program, program)
        if program in ("set-alias", "new-alias"):
            self._define_alias(args)
        if hidden and program in _RUNS_STRINGS:
            self.reading.obfuscation.append("built-exec")
        self.reading.add(Command(program, tuple(args), "powershell", pipeline, self.depth, self.via))

    def _define_alias(self, args: list[str]) -> None:
        positional = [a for a in args if not a.startswith("-")]
        if len(positional) >= 2:
            self.aliases[positional[0].lower()] = canonical_program(positional[1], "powershell")

    def _arguments(self, elements: Node) -> list[str]:
        args: list[str] = []
        joined = False  # PowerShell reads adjacent elements ($env:X\y.txt) as one argument
        for child in elements.named_children:
            kind = child.type
            if kind == "command_argument_sep":
                joined = False
                continue
            if joined and args and kind not in {"command_parameter", "redirection"}:
                piece = self._arguments_of(child, kind)
                args[-1] += "".join(piece)
                continue
            joined = True
            if kind in _WORDS:  # the common case, read here: a word
                args.append(strip_backticks(text_of(child)))
            else:
                args.extend(self._arguments_of(child, kind))
        return args

    def _arguments_of(self, child: Node, kind: str) -> list[str]:
        if kind in _WORDS:  # a word
            return [strip_backticks(text_of(child))]
        inner = unwrap(child)
        if inner.type == "variable" and text_of(inner).startswith("@"):
            return self._splat(inner)
        # The folder unwraps what it is given: handing it ``inner`` spares a second walk down.
        value: Value | None = self.folder.value(inner)
        text = as_text(value)
        if text is None:
            text = strip_backticks(text_of(child))
        elif text != text_of(child):
            self.folder.folded.append(text)
        return [text]

    def _splat(self, node: Node) -> list[str]:
        value = self.folder.variables.get(text_of(node).lstrip("@").lower())
        if isinstance(value, dict):
            out: list[str] = []
            for key, item in value.items():
                out.append("-" + key)
                text = as_text(item)
                if text is not None and not (isinstance(item, str) and item.lower() == "$true"):
                    out.append(text)
            return out
        if isinstance(value, list):
            return [t for t in (as_text(v) for v in value) if t is not None]
        return [text_of(node)]

    def _call(self, node: Node) -> None:
        names = [c for c in node.named_children if c.type == "member_name"]
        if not names:
            return
        method = as_text(self.folder.value(names[-1])) or text_of(names[-1])
        target = node.named_children[0]
        target_text = strip_backticks(text_of(target)).lower()
        if target.type == "type_literal":
            target_text = target_text.strip("[]").removeprefix("system.")
        elif target.type == "member_access" and target.named_children[0].type == "type_literal":
            target_text = target_text.replace("[", "").replace("]", "").removeprefix("system.")
        else:
            target_text = _object_type(target_text)
        self.reading.calls.append(f"{target_text}.{method.strip(chr(39) + chr(34)).lower()}")
        # Fold the whole call so a payload it decodes (GetString(FromBase64String(…))) is kept.
        value = self.folder.value(node)
        if isinstance(value, str):
            self.folder.folded.append(value)


_WORDS = frozenset({"command_parameter", "redirection", "generic_token"})
_STATEMENT = re.compile(r"""(?:"[^"]*"|'[^']*'|[^;|\n])+""")
_TOKEN = re.compile(r"""(?:"[^"]*"|'[^']*'|[^\s"'])+""")


def _read_loosely(text: str, reading: Reading, depth: int, via: str) -> None:
    r"""Where the grammar gave up (an error node), also read words between ``;``/``|`` as commands.

    Real PowerShell is more forgiving than the grammar in places (``$env:X\.aws\y`` as one
    argument); this keeps such commands visible rather than losing them.
    """
    for statement in _STATEMENT.findall(text):
        words = [strip_backticks(w).strip("'\"") for w in _TOKEN.findall(statement)]
        words = [w for w in words if w]
        if not words or words[0] in ("&", "."):
            words = words[1:]
        if not words:
            continue
        program = canonical_program(words[0], "powershell")
        reading.add(Command(program, tuple(words[1:]), "powershell", reading.next_pipeline(), depth, via))


_RUNS_STRINGS = frozenset(
    {"invoke-expression", "invoke-command", "powershell", "pwsh", "cmd", "start-process"}
)


def _built(node: Node) -> bool:
    """Whether a command-name expression builds the name (concatenation, -f, [char], -join …)."""
    inner = unwrap(node)
    if inner.type == "parenthesized_expression" and inner.named_child_count == 1:
        inner = unwrap(inner.named_children[0])
    return inner.type not in ("string_literal", "variable")


def _object_type(target: str) -> str:
    """``(new-object net.webclient)`` → ``net.webclient``; other receivers keep their text."""
    compact = " ".join(target.strip("()").split())
    if compact.startswith("new-object "):
        words = [w for w in compact.split()[1:] if not w.startswith("-")]
        if words:
            return words[0].strip("'\"").removeprefix("system.")
    return compact[:80]
