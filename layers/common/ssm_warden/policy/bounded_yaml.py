"""Bounded YAML for policy documents: a SafeLoader that refuses what a policy never needs.

A policy is a few kilobytes of plain mappings and lists. What YAML allows beyond that is how a
paste error or a hostile document breaks every function that loads it:

* **aliases** (``*name``): a few hundred bytes of nested aliases expand to gigabytes (the "billion
  laughs"); a policy may use at most ``MAX_ALIASES`` of them;
* **duplicate keys**: PyYAML keeps the last one silently, so ``idle_minutes: 15`` pasted above
  ``idle_minutes: 600`` loosens production without a word;
* **size and depth**: a document over ``MAX_DOCUMENT_BYTES`` or nested deeper than ``MAX_DEPTH``.

Every problem is reported with its line, as ``YamlProblem``; the first problem that makes the rest of
the document unreadable stops the parse.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

MAX_ALIASES = 10
MAX_DEPTH = 20
MAX_DOCUMENT_BYTES = 256 * 1024


@dataclass(frozen=True)
class YamlProblem:
    line: int
    field: str
    message: str


class YamlRefused(Exception):
    """The document cannot be read at all (syntax, aliases, size); ``problem`` says where and why."""

    def __init__(self, problem: YamlProblem) -> None:
        super().__init__(problem.message)
        self.problem = problem


class BoundedSafeLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that counts aliases and nesting while composing, before anything expands."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._aliases = 0
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise YamlRefused(
                    YamlProblem(
                        mark.line + 1,
                        "(document)",
                        f"more than {MAX_ALIASES} YAML aliases (*name): a policy needs none, and nested "
                        "aliases can expand a small document into gigabytes",
                    )
                )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise YamlRefused(
                    YamlProblem(mark.line + 1, "(document)", f"nested deeper than {MAX_DEPTH} levels")
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _duplicate_keys(node: yaml.Node, path: tuple[Any, ...], out: list[YamlProblem], seen: set[int]) -> None:
    if id(node) in seen:  # an aliased node is checked once
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        first: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            where = ".".join(str(p) for p in (*path, key)) if key is not None else "(document)"
            if key is not None and key != "<<":
                if key in first:
                    out.append(
                        YamlProblem(
                            key_node.start_mark.line + 1,
                            where,
                            f"duplicate key {key!r} (first on line {first[key]}); YAML would silently "
                            "keep the last one",
                        )
                    )
                else:
                    first[key] = key_node.start_mark.line + 1
            _duplicate_keys(value_node, (*path, key), out, seen)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _duplicate_keys(item, (*path, index), out, seen)


@dataclass(frozen=True)
class ParsedYaml:
    data: Any
    node: yaml.Node | None
    problems: list[YamlProblem]


def parse_bounded(text: str) -> ParsedYaml:
    """Compose and construct ``text`` within the bounds above.

    Raises ``YamlRefused`` when the document cannot be read; returns the data with the problems
    found in a readable document (duplicate keys)."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_DOCUMENT_BYTES:
        raise YamlRefused(
            YamlProblem(
                1, "(document)", f"larger than {MAX_DOCUMENT_BYTES // 1024} KiB; a policy is a few KiB"
            )
        )
    loader = BoundedSafeLoader(text)
    try:
        node = loader.get_single_node()
        problems: list[YamlProblem] = []
        if node is not None:
            _duplicate_keys(node, (), problems, set())
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise YamlRefused(YamlProblem(line, "(document)", f"not valid YAML: {exc.problem}")) from exc
    except yaml.YAMLError as exc:
        raise YamlRefused(YamlProblem(1, "(document)", f"not valid YAML: {exc}")) from exc
    except (ValueError, OverflowError, TypeError, RecursionError) as exc:
        # A scalar the constructor cannot turn into a value (a date in year 99999, ...).
        raise YamlRefused(YamlProblem(1, "(document)", f"a value cannot be read: {exc}")) from exc
    finally:
        loader.dispose()
    return ParsedYaml(data=data, node=node, problems=problems)
