"""What a command substitution prints, when that is known without running anything:
``$(echo cu)``, ``$(printf …)``, ``$(echo … | base64 -d)``, ``$(which python3)``."""

from __future__ import annotations

from collections.abc import Callable

from ssm_warden.detect.shell.decode import apply_filter, literal_output
from ssm_warden.detect.shell.syntax import Pipeline, Redir, Word
from ssm_warden.detect.shell.tree import parse
from ssm_warden.detect.shell.words import command_name


def evaluate_substitution(inner: str, parse_text: Callable[[str], list[Pipeline]] = parse) -> str | None:
    """``$(echo cu)`` → ``cu``; ``$(echo … | base64 -d)`` → decoded; else None."""
    inner = inner.strip()
    if not inner or len(inner) > 65536:
        return None
    try:
        pipelines = parse_text(inner)
    except RecursionError:  # pragma: no cover
        return None
    located = located_program(pipelines)
    if located is not None:
        return located
    if len(pipelines) != 1:
        return None
    argvs: list[list[str]] = []
    for command in pipelines[0]:
        argv: list[str] = []
        for item in command.items:
            if isinstance(item, Redir):
                if item.op == "<<<" and item.target is not None:
                    argv.append("<<< " + "".join(p.text for p in item.target.parts if p.kind == "lit"))
                continue
            if any(p.kind != "lit" for p in item.parts):
                return None
            argv.append("".join(p.text for p in item.parts))
        if not argv:
            return None
        argv[0] = command_name(argv[0])
        argvs.append(argv)
    if not argvs:
        return None
    value = literal_output(argvs[0])
    if value is None:
        return None
    for argv in argvs[1:]:
        step = apply_filter(argv, value)
        if step is None:
            return None
        value = step
    return value.rstrip("\n")


def located_program(pipelines: list[Pipeline]) -> str | None:
    """``$(which python3 || which python)`` / ``$(command -v gpg)`` → the program's name."""
    first = pipelines[0][0] if pipelines and pipelines[0] else None
    if first is None or len(pipelines[0]) != 1:
        return None
    words = ["".join(p.text for p in item.parts) for item in first.items if isinstance(item, Word)]
    if (len(words) == 2 and words[0] == "which") or (
        len(words) == 3 and words[0] in ("command", "type") and words[1] in ("-v", "-p", "-P")
    ):
        return command_name(words[-1])
    return None
