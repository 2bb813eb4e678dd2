"""The build's precompiled YAML gives what parsing gives, and a missing, stale or broken artefact
falls back to parsing (slower, never different)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from ssm_warden import compiled_yaml
from ssm_warden.detect.pack_files import DEFAULT_PACK_ALIAS, available_packs
from ssm_warden.detect.rules import load_rules
from ssm_warden.policy import catalog

PACKAGE = compiled_yaml.package_dir()


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
