"""What the rules see of one judged text: segments, pipelines, the snippet, and each command run.

``Exec`` and ``Segment`` are built for every program of every judged command and never changed once
built; they are not ``frozen`` only because a frozen dataclass costs several times more to build.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Exec:
    """One program run, after expansion and with wrappers stripped: what facts are derived from.

    ``argv[0]`` is the base name; ``path`` the program as typed (``/tmp/x``, ``./run.sh``).
    ``redirs`` are ``(operator, target)`` pairs. ``pipeline``/``stage`` place it in its pipeline.
    ``via`` names the programs that ran it (``sudo``, ``xargs``, ``bash -c``, ``find -exec``).
    """

    argv: tuple[str, ...]
    path: str
    redirs: tuple[tuple[str, str], ...]
    privileged: bool
    depth: int
    pipeline: int
    stage: int
    via: tuple[str, ...] = ()


@dataclass(slots=True)
class Segment:
    """One simple command after normalisation: ``argv0 arg1 … [redirections]``.

    ``child``: it runs in a shell the command starts (``bash -c``, ``su -c``, ``ssh host cmd``), not
    in the session's own shell: what it does to its shell (``exec >/dev/null``) ends with it.
    """

    text: str
    privileged: bool
    depth: int
    child: bool = False


@dataclass(slots=True)
class Normalized:
    """Every view of one judged text that rules can match."""

    segments: list[Segment] = field(default_factory=list)
    pipelines: list[str] = field(default_factory=list)
    snippet_parts: list[str] = field(default_factory=list)
    privileged: bool = False
    truncated: bool = False  # a nesting or payload limit was reached
    coarse: bool = False  # too long for the full parse: normalize_coarse() was used
    execs: list[Exec] = field(default_factory=list)
    pipeline_count: int = 0

    @property
    def snippet(self) -> str:
        return " ; ".join(self.snippet_parts)
