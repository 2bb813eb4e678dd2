"""The YAML files ssm-warden ships (rule packs, their lists), parsed at build time.

Parsing YAML in pure Python is the largest part of a detector's construction: the rule packs take a
few hundred milliseconds of a cold start every time a container judges its first command. The build
(``python -m ssm_warden.compiled_yaml``, run by ``make venv`` and ``make build``) parses each shipped
file with the same ``yaml.safe_load`` and stores the result as JSON in ``_compiled_yaml.json``, keyed
by the SHA-256 of the file's text. ``safe_load(text)`` returns the stored result when there is one
for exactly that text, else parses the text itself: a missing or stale artefact (a pack edited after
the build) costs time, never a different answer.

A document is stored only when JSON gives it back unchanged (no dates, no non-string keys), so
what the artefact returns always equals what ``yaml.safe_load`` returns.
"""

from __future__ import annotations

import functools
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

ARTEFACT = "_compiled_yaml.json"
FORMAT = 1
# The shipped YAML that is parsed on a function's path, relative to the ssm_warden package.
SHIPPED = ("detect/lists.yaml", "detect/packs/*.yaml", "detect/windows/packs/*.yaml")


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@functools.cache
def _documents() -> dict[str, str]:
    """The artefact's documents (digest -> JSON text), or none when it is missing or unreadable."""
    try:
        loaded = json.loads(artefact_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(loaded, dict) or loaded.get("format") != FORMAT:
        return {}
    documents = loaded.get("documents")
    return documents if isinstance(documents, dict) else {}


def safe_load(text: str) -> Any:
    """``yaml.safe_load(text)``, from the build's artefact when it holds this exact text."""
    stored = _documents().get(digest(text))
    if stored is not None:
        return json.loads(stored)  # a new object each time, as a parse would give
    import yaml

    return yaml.safe_load(text)


def reset() -> None:
    """Forget the loaded artefact (tests replace it)."""
    _documents.cache_clear()


def package_dir() -> Path:
    return Path(__file__).resolve().parent


def artefact_path() -> Path:
    return package_dir() / ARTEFACT


def shipped_files(root: Path) -> list[Path]:
    return sorted({path for pattern in SHIPPED for path in root.glob(pattern)})


def compile_documents(root: Path) -> dict[str, str]:
    """digest -> JSON text for every shipped file under ``root`` that JSON represents exactly."""
    import yaml

    documents: dict[str, str] = {}
    for path in shipped_files(root):
        text = path.read_text(encoding="utf-8")
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError:
            continue  # left to fail at runtime with the loader's own message
        try:
            encoded = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        except (TypeError, ValueError):
            continue  # dates, sets, non-string keys: parsed at runtime
        if json.loads(encoded) == data:
            documents[digest(text)] = encoded
    return documents


def build(root: Path | None = None) -> Path:
    """Write the artefact next to the package's YAML; its path."""
    root = root or package_dir()
    target = root / ARTEFACT
    payload = {"format": FORMAT, "documents": compile_documents(root)}
    target.write_text(json.dumps(payload, ensure_ascii=False, sort_keys=True), encoding="utf-8")
    return target


def main(argv: list[str]) -> int:
    target = build(Path(argv[0]) if argv else None)
    count = len(json.loads(target.read_text(encoding="utf-8"))["documents"])
    print(f"{target}: {count} YAML documents precompiled")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
