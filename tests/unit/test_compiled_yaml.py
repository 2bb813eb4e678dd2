"""The build's precompiled YAML gives what parsing gives, and a missing, stale or broken artefact
falls back to parsing (slower, never different)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from ssm_warden import compiled_yaml
from ssm_warden.detect.pack_files import DEFAULT_PACK_ALIAS, available_packs
from ssm_warden.detect.rules import load_rules
from ssm_warden.errors import PolicyError
from ssm_warden.policy import catalog
from ssm_warden.policy.bounded_yaml import parse_bounded
from ssm_warden.policy.loader import LoadedPolicy, bundled_policy_text, load_policy_text

PACKAGE = compiled_yaml.package_dir()
NOW = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture
def artefact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The artefact the functions read, pointed at a copy of the package the test may change."""
    copy = tmp_path / "ssm_warden"
    for path in compiled_yaml.shipped_files(PACKAGE):
        target = copy / path.relative_to(PACKAGE)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    built = compiled_yaml.build(copy)
    monkeypatch.setattr(compiled_yaml, "artefact_path", lambda: built)
    compiled_yaml.reset()
    yield built
    compiled_yaml.reset()


def test_every_shipped_file_is_precompiled_and_reads_back_as_parsing_it_does(artefact: Path) -> None:
    shipped = compiled_yaml.shipped_files(PACKAGE)
    assert any(p.name == "lists.yaml" for p in shipped) and len(shipped) > 10
    documents = json.loads(artefact.read_text())["documents"]
    for path in shipped:
        text = path.read_text(encoding="utf-8")
        assert compiled_yaml.digest(text) in documents, path
        assert compiled_yaml.safe_load(text) == yaml.safe_load(text)


def test_each_load_is_a_new_object(artefact: Path) -> None:
    text = (PACKAGE / "detect" / "lists.yaml").read_text(encoding="utf-8")
    first = compiled_yaml.safe_load(text)
    first.clear()
    assert compiled_yaml.safe_load(text) == yaml.safe_load(text)


def test_an_edited_pack_is_parsed_not_taken_from_a_stale_artefact(artefact: Path) -> None:
    text = (PACKAGE / "detect" / "packs" / "recon.yaml").read_text(encoding="utf-8")
    edited = text.replace("pack: recon", "pack: recon-edited", 1)
    assert edited != text
    assert compiled_yaml.safe_load(edited)["pack"] == "recon-edited"


def test_without_an_artefact_or_with_a_broken_one_every_file_is_parsed(artefact: Path) -> None:
    text = (PACKAGE / "detect" / "packs" / "recon.yaml").read_text(encoding="utf-8")
    for broken in ("", "{not json", json.dumps({"format": 999, "documents": {}})):
        artefact.write_text(broken)
        compiled_yaml.reset()
        assert compiled_yaml.safe_load(text) == yaml.safe_load(text)
    artefact.unlink()
    compiled_yaml.reset()
    assert compiled_yaml.safe_load(text) == yaml.safe_load(text)


def test_yaml_errors_still_come_from_the_parser(artefact: Path) -> None:
    with pytest.raises(yaml.YAMLError):
        compiled_yaml.safe_load("rules: [unclosed")


def test_documents_json_cannot_represent_are_left_to_the_parser(tmp_path: Path) -> None:
    (tmp_path / "detect").mkdir()
    (tmp_path / "detect" / "lists.yaml").write_text("when: 2024-01-04\n")
    assert compiled_yaml.compile_documents(tmp_path) == {}


def test_the_detector_loads_the_same_rules_with_and_without_the_artefact(artefact: Path) -> None:
    with_artefact = load_rules(available_packs())
    artefact.unlink()
    compiled_yaml.reset()
    assert load_rules(available_packs()) == with_artefact


def test_the_policy_catalog_names_exactly_the_detectors_packs_and_rule_ids() -> None:
    catalog.known_rule_ids.cache_clear()
    assert catalog.known_rule_ids() == frozenset(r.id for r in load_rules(available_packs()))
    assert catalog.DEFAULT_PACK_ALIAS == DEFAULT_PACK_ALIAS
    assert catalog.known_pack_names() == frozenset([DEFAULT_PACK_ALIAS, *available_packs()])


# -- the bundled policy, read with the bounded rules ----------------------------------------------------


@pytest.fixture
def policy_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the package's policy files with its own artefact, which the loader reads."""
    copy = tmp_path / "ssm_warden"
    (copy / "policy").mkdir(parents=True)
    for name in ("default.yaml", "bounded_yaml.py"):
        (copy / "policy" / name).write_text((PACKAGE / "policy" / name).read_text(encoding="utf-8"))
    monkeypatch.setattr(compiled_yaml, "package_dir", lambda: copy)
    monkeypatch.setattr(compiled_yaml, "artefact_path", lambda: copy / compiled_yaml.ARTEFACT)
    compiled_yaml.build(copy)
    compiled_yaml.reset()
    yield copy
    compiled_yaml.reset()


def _loaded_without_artefact(text: str, source: str) -> LoadedPolicy:
    """What the loader gives when it parses ``text`` itself."""
    saved = compiled_yaml.bounded_load
    try:
        compiled_yaml.bounded_load = lambda text: None  # type: ignore[assignment]
        return load_policy_text(text, source=source, now=NOW)
    finally:
        compiled_yaml.bounded_load = saved  # type: ignore[assignment]


def test_the_bundled_policy_is_precompiled_and_loads_as_parsing_it_does(policy_package: Path) -> None:
    text = bundled_policy_text()
    assert compiled_yaml.bounded_load(text) == parse_bounded(text).data
    loaded = load_policy_text(text, source="bundled:default.yaml", now=NOW)
    assert loaded == _loaded_without_artefact(text, "bundled:default.yaml")
    assert loaded.warnings == ()


def test_the_default_policy_reads_no_yaml_when_the_artefact_holds_it() -> None:
    code = (
        "import sys; from ssm_warden.policy.loader import default_policy; default_policy(); "
        "print('yaml' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_an_edited_policy_or_edited_rules_are_parsed_not_taken_from_the_artefact(
    policy_package: Path,
) -> None:
    text = bundled_policy_text()
    edited = text + "\n# edited after the build\n"
    assert compiled_yaml.bounded_load(edited) is None
    assert load_policy_text(edited, now=NOW).policy == load_policy_text(text, now=NOW).policy
    rules = policy_package / "policy" / "bounded_yaml.py"
    rules.write_text(rules.read_text() + "\n# MAX_ALIASES changed after the build\n")
    assert compiled_yaml.bounded_load(text) is None


def test_without_an_artefact_the_policy_is_parsed(policy_package: Path) -> None:
    text = bundled_policy_text()
    with_artefact = load_policy_text(text, source="s", now=NOW)
    (policy_package / compiled_yaml.ARTEFACT).unlink()
    compiled_yaml.reset()
    assert compiled_yaml.bounded_load(text) is None
    assert load_policy_text(text, source="s", now=NOW) == with_artefact


def test_a_shipped_policy_with_warnings_or_problems_is_never_taken_from_the_artefact(
    policy_package: Path,
) -> None:
    """Warnings and refusals name lines, which only the parse knows: such a policy is parsed."""
    weakened = (
        "version: 1\nscopes:\n  - name: live\n    match: {tags: {Environment: [production]}}\n"
        "    mode: monitor\n"
    )
    duplicate = "version: 1\nversion: 1\n"
    for shipped in (weakened, duplicate):
        (policy_package / "policy" / "default.yaml").write_text(shipped)
        compiled_yaml.build(policy_package)
        compiled_yaml.reset()
        # The weakened one is stored (its parse has no problem), the duplicate key is not.
        assert (compiled_yaml.bounded_load(shipped) is not None) == (shipped == weakened)
        try:
            expected: LoadedPolicy | str = _loaded_without_artefact(shipped, "s")
        except PolicyError as exc:
            expected = str(exc)
        try:
            got: LoadedPolicy | str = load_policy_text(shipped, source="s", now=NOW)
        except PolicyError as exc:
            got = str(exc)
        assert got == expected
        if shipped == weakened:
            assert isinstance(got, LoadedPolicy) and any(
                "p.yaml" not in w and "s:5:" in w for w in got.warnings
            )
        else:
            assert isinstance(got, str) and "duplicate key" in got
