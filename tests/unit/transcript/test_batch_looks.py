"""Which lines of a batch the extractor looks at: found over the joined text, the same lines as a
step per line would find (lines to clean, lines starting with a prompt's first character, events'
first lines with a prompt-ending character)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ssm_warden.transcript.batch import PROMPT_END, Looks

# Printable ASCII, the controls the agent leaves (BS, ESC, CR, DEL), C1 controls, and non-ASCII
# characters that are printable (é, U+276F, U+FFFD) or not (NBSP, LINE SEPARATOR).
CHARS = st.sampled_from(
    ["a", "[", "$", "#", " ", "\x08", "\x1b", "\r", "\x7f", "\x85", "é", "\u276f", "\ufffd"]
)
LINES = st.lists(st.text(CHARS, max_size=8), min_size=1, max_size=40)
ASCII_LINES = st.lists(st.text(st.sampled_from(["a", "[", "$", " ", "\x08"]), max_size=8), min_size=1)


def _by_line(lines: list[str], starts: list[int]) -> set[int]:
    cleaned = {k for k, line in enumerate(lines) if not line.isprintable()}
    if not any((c < " " and c != "\n") or "\x7f" <= c <= "\x9f" for line in lines for c in line):
        cleaned = set()  # only when the batch holds a control character at all
    prompt_end = {k for k in starts if k < len(lines) and PROMPT_END.search(lines[k], 0, 100)}
    return cleaned | prompt_end


@settings(max_examples=300)
@given(LINES, st.data())
def test_lines_to_look_at_are_those_a_step_per_line_finds(lines: list[str], data: st.DataObject) -> None:
    starts = sorted({*data.draw(st.lists(st.integers(0, len(lines)), max_size=10)), 0})
    assert Looks(lines, starts).fixed == sorted(_by_line(lines, starts))


@settings(max_examples=100)
@given(ASCII_LINES)
def test_many_control_characters_are_found_too(lines: list[str]) -> None:
    lines = [*lines, *("\x08" * 3 for _ in range(len(lines)))]  # more than a line in four
    assert Looks(lines, [0]).fixed == sorted(_by_line(lines, [0]))


@settings(max_examples=200)
@given(LINES, st.lists(st.sampled_from(["[", "a", "$", "é", "\n", "aa"]), min_size=1, max_size=3))
def test_head_lines_are_the_lines_starting_with_a_head(lines: list[str], heads: list[str]) -> None:
    looks = Looks(lines, [0])
    expected = [k for k, line in enumerate(lines) if any(("\n" + line).startswith("\n" + h) for h in heads)]
    if any("\n" in h for h in heads):  # a head holding a line break: the joined text decides
        text = "\n" + "\n".join(lines)
        expected = sorted({text.count("\n", 0, at + 1) - 1 for h in heads for at in _all(text, "\n" + h)})
    looks.next(0, tuple(heads), 0)
    assert looks.by_head == expected


def _all(text: str, needle: str) -> list[int]:
    found, at = [], text.find(needle)
    while at >= 0:
        found.append(at)
        at = text.find(needle, at + 1)
    return found
