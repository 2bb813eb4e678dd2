"""What a policy may name: rule packs, rule ids, and ssm-warden's own limit and check names.

The detector owns packs and rules; this module is the one place the policy side asks it, so that a
change in the detector's interface is one edit here.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

from ssm_warden.policy.model import KeylessPathName, StartCheck

# Names ``rules:`` overrides and exemptions may use besides rule ids: limits and start-time checks
# (``rule_or_limit`` of the actions they produce).
LIMIT_NAMES = ("idle_minutes", "max_minutes", "logging_gap", "jit_window")
# Prefixes of generated names (``tamper.DeleteLogGroup``, ``policy``) that a policy may also name.
GENERATED_PREFIXES = ("tamper.",)
DEFAULT_PACK_ALIAS = "default"  # detect.rules.DEFAULT_PACK_ALIAS (a test holds them equal)


def _pack_dir() -> Any:
    # The detector's packs directory (``detect.rules._pack_dir``), read here without importing the
    # detector: every function checks its policy on a cold start, and only the command watch judges.
    return resources.files("ssm_warden.detect").joinpath("packs")


def _shipped_packs() -> list[str]:
    """``detect.rules.available_packs()``: the shipped pack names, sorted."""
    return sorted(e.name.removesuffix(".yaml") for e in _pack_dir().iterdir() if e.name.endswith(".yaml"))


@lru_cache(maxsize=1)
def known_pack_names() -> frozenset[str]:
    """The pack names ``rule_packs`` may list: every pack the detector ships, and its alias for all."""
    return frozenset([DEFAULT_PACK_ALIAS, *_shipped_packs()])


@lru_cache(maxsize=1)
def known_rule_ids() -> frozenset[str]:
    """Every rule id of every shipped pack, read from the packs' data (the build's precompiled form
    when current): building the rules (conditions compiled, patterns checked) is the detector's work,
    done only where commands are judged. The detector's own tests check each pack's ids."""
    from ssm_warden import compiled_yaml

    ids: set[str] = set()
    for name in _shipped_packs():
        data = compiled_yaml.safe_load(_pack_dir().joinpath(f"{name}.yaml").read_text(encoding="utf-8"))
        ids.update(str(rule["id"]) for rule in (data or {}).get("rules") or [] if isinstance(rule, dict))
    return frozenset(ids)


def known_rule_or_limit_names() -> frozenset[str]:
    return (
        known_rule_ids()
        | frozenset(LIMIT_NAMES)
        | frozenset(c.value for c in StartCheck)
        | frozenset(f"keyless.{p.value}" for p in KeylessPathName)
    )


def is_known_rule_or_limit(name: str) -> bool:
    return name in known_rule_or_limit_names() or name.startswith(GENERATED_PREFIXES)
