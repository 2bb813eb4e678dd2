"""The shipped rule packs as files: where they are, their names, and the rule ids they hold, read
without building a rule. Every function checks its policy's pack and rule names on a cold start;
only the command watch builds the detector (``detect.rules``)."""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable

DEFAULT_PACK_ALIAS = "default"  # ``rule_packs: [default]``: every pack a policy gets unless it says


def pack_dir() -> Traversable:
    return resources.files("ssm_warden.detect").joinpath("packs")


def available_packs() -> list[str]:
    """Names of the packs shipped with ssm-warden, sorted."""
    return sorted(e.name.removesuffix(".yaml") for e in pack_dir().iterdir() if e.name.endswith(".yaml"))


def pack_text(name: str) -> str:
    return pack_dir().joinpath(f"{name}.yaml").read_text(encoding="utf-8")


def shipped_rule_ids() -> frozenset[str]:
    """Every rule id of every shipped pack, from the packs' data (the build's precompiled form when
    current). The detector's own tests check each pack's rules."""
    from ssm_warden import compiled_yaml

    ids: set[str] = set()
    for name in available_packs():
        data = compiled_yaml.safe_load(pack_text(name))
        ids.update(str(rule["id"]) for rule in (data or {}).get("rules") or [] if isinstance(rule, dict))
    return frozenset(ids)
