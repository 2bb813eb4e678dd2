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

The bundled policy (``policy/default.yaml``) is read with the policy's bounded YAML rules instead
(``policy.bounded_yaml``: no alias bombs, no duplicate keys): it is stored apart, under ``bounded``,
only when those rules find no problem in it, and keyed by its text and by the rules' own source, so a
change to either is a miss (``bounded_load`` gives None and the policy loader parses the text).
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
# The shipped policy documents, read with the bounded rules (relative to the ssm_warden package).
BOUNDED = ("policy/default.yaml",)
BOUNDED_RULES = "policy/bounded_yaml.py"


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@functools.cache
def _artefact() -> dict[str, Any]:
    """The artefact, or an empty one when it is missing or unreadable."""
    try:
        loaded = json.loads(artefact_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(loaded, dict) or loaded.get("format") != FORMAT:
        return {}
    return loaded


def _documents() -> dict[str, str]:
    """The artefact's documents (digest -> JSON text), or none when it is missing or unreadable."""
    documents = _artefact().get("documents")
    return documents if isinstance(documents, dict) else {}


def _bounded_key(text: str, root: Path) -> str | None:
    """The key of ``text`` read under the bounded rules as they are in ``root`` (None: unreadable)."""
    try:
        rules = (root / BOUNDED_RULES).read_text(encoding="utf-8")
    except OSError:
        return None
    return digest(digest(rules) + "\x00" + text)


def bounded_load(text: str) -> dict[str, Any] | None:
    """The bounded parse of ``text`` (a mapping with no problem found), from the build's artefact when
    it holds this exact text read under these exact rules; None when it does not (parse it)."""
    bounded = _artefact().get("bounded")
    if not isinstance(bounded, dict):
        return None
    key = _bounded_key(text, package_dir())
    stored = bounded.get(key) if key is not None else None
    if not isinstance(stored, str):
        return None
    data = json.loads(stored)
    return data if isinstance(data, dict) else None


def safe_load(text: str) -> Any:
    """``yaml.safe_load(text)``, from the build's artefact when it holds this exact text."""
    stored = _documents().get(digest(text))
    if stored is not None:
        return json.loads(stored)  # a new object each time, as a parse would give
    import yaml

    return yaml.safe_load(text)


def reset() -> None:
    """Forget the loaded artefact (tests replace it)."""
    _artefact.cache_clear()


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


def compile_bounded(root: Path) -> dict[str, str]:
    """key -> JSON text for every shipped policy under ``root`` that the bounded rules read without a
    problem (a mapping, no duplicate key, aliases within bounds) and JSON represents exactly."""
    from ssm_warden.policy.bounded_yaml import YamlRefused, parse_bounded

    documents: dict[str, str] = {}
    for path in sorted({path for pattern in BOUNDED for path in root.glob(pattern)}):
        text = path.read_text(encoding="utf-8")
        key = _bounded_key(text, root)
        try:
            parsed = parse_bounded(text)
        except YamlRefused:
            continue  # left to be refused at runtime with the loader's own message
        if key is None or parsed.problems or not isinstance(parsed.data, dict):
            continue
        try:
            encoded = json.dumps(parsed.data, ensure_ascii=False, separators=(",", ":"))
        except (TypeError, ValueError):
            continue
        if json.loads(encoded) == parsed.data:
            documents[key] = encoded
    return documents


def build(root: Path | None = None) -> Path:
    """Write the artefact next to the package's YAML; its path."""
    root = root or package_dir()
    target = root / ARTEFACT
    payload = {"format": FORMAT, "documents": compile_documents(root), "bounded": compile_bounded(root)}
    target.write_text(json.dumps(payload, ensure_ascii=False, sort_keys=True), encoding="utf-8")
    return target


def main(argv: list[str]) -> int:
    target = build(Path(argv[0]) if argv else None)
    built = json.loads(target.read_text(encoding="utf-8"))
    count = len(built["documents"]) + len(built["bounded"])
    print(f"{target}: {count} YAML documents precompiled")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
