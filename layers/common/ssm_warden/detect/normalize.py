"""Shell text in, the views rules match against out: the entry point of the shell reader.

``normalize`` parses the text with tree-sitter-bash (``shell.tree``), expands and de-obfuscates it
(``shell.expand``) and returns its segments, pipelines, snippet and the programs it runs
(``Normalized.execs``, from which ``facts`` are derived). Text longer than ``FULL_PARSE_LIMIT`` gets
a coarse, C-speed reading (``normalize_coarse``) so that a megabyte line stays cheap.
"""

from __future__ import annotations

import re

from ssm_warden.detect.shell.expand import Expander
from ssm_warden.detect.shell.syntax import Pipeline
from ssm_warden.detect.shell.views import Exec, Normalized, Segment

__all__ = ["FULL_PARSE_LIMIT", "Exec", "Normalized", "Segment", "normalize", "normalize_coarse"]

FULL_PARSE_LIMIT = 64 * 1024  # longer texts get the coarse (C-speed) normalisation
# More simple commands than this in one text (``a|a|a|…``) also: each costs tens of microseconds.
MAX_COMMANDS = 1500
_SEPARATOR = re.compile(r"[|;&\n]|\$\(|`")


def _separators(text: str) -> int:
    return len(_SEPARATOR.findall(text)) if len(text) > 4 * MAX_COMMANDS else 0


_COARSE_IFS = re.compile(r"\$\{IFS[^}]*\}|\$IFS\b")
_COARSE_QUOTES = re.compile(r"\\(.)|['\"]", re.DOTALL)
_COARSE_PIPELINES = re.compile(r"\n|;|&&|\|\||(?<![>&])&(?![>&])")
_COARSE_SEGMENTS = re.compile(r"\|&?")
_COARSE_ARGV0 = re.compile(r"^\S*/(?=\S)")


def normalize_coarse(text: str) -> Normalized:
    """Normalisation for very long input: quotes, escapes and ${IFS} removed and the text split
    into pipelines and segments by regular expressions only. Nothing is skipped — every byte
    still reaches the rules — but variables, wrappers and nested payloads are not followed
    (base64 / hex literals still are, when the text asks for decoding)."""
    out = Normalized(coarse=True)
    flat = _COARSE_QUOTES.sub(lambda m: m.group(1) or "", _COARSE_IFS.sub(" ", text))
    seen_segments: set[str] = set()
    seen_pipelines: set[str] = set()
    # A chunk seen before adds no segment or pipeline that is not already there: each is read once.
    for chunk in dict.fromkeys(_COARSE_PIPELINES.split(flat)):
        segments: list[str] = []
        for piece in _COARSE_SEGMENTS.split(chunk):
            words = piece.split()
            if not words:
                continue
            segment = _COARSE_ARGV0.sub("", " ".join(words), count=1)
            segments.append(segment)
            if segment not in seen_segments:
                seen_segments.add(segment)
                out.segments.append(Segment(segment, False, 0))
        if segments:
            pipeline = " | ".join(segments)
            if pipeline not in seen_pipelines:
                seen_pipelines.add(pipeline)
                out.pipelines.append(pipeline)
                out.snippet_parts.append(pipeline)
    normalizer = Expander()
    normalizer._decode_literals(text, 0, False)
    decoded = normalizer.out
    out.segments.extend(decoded.segments)
    out.pipelines.extend(decoded.pipelines)
    out.snippet_parts.extend(decoded.snippet_parts)
    return out


def normalize(text: str, parsed: dict[str, list[Pipeline]] | None = None) -> Normalized:
    """All the views of ``text`` (one command line or a pasted multi-line snippet). ``parsed``
    holds parse results by text, shared by the texts of one judgement (a snippet and its lines)."""
    if len(text) > FULL_PARSE_LIMIT or _separators(text) > MAX_COMMANDS:
        return normalize_coarse(text)
    expander = Expander(parsed)
    try:
        expander.run(text)
    except RecursionError:  # nesting deeper than the interpreter's stack: read it coarsely
        return normalize_coarse(text)
    return expander.out
