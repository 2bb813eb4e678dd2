"""What a policy may name: rule packs, rule ids, and ssm-warden's own limit and check names.

The detector owns packs and rules; this module is the one place the policy side asks it, so that a
change in the detector's interface is one edit here.
"""

from __future__ import annotations

from functools import lru_cache

from ssm_warden.detect.pack_files import DEFAULT_PACK_ALIAS, available_packs, shipped_rule_ids
from ssm_warden.policy.model import KeylessPathName, StartCheck

# Names ``rules:`` overrides and exemptions may use besides rule ids: limits and start-time checks
# (``rule_or_limit`` of the actions they produce).
LIMIT_NAMES = ("idle_minutes", "max_minutes", "logging_gap", "jit_window")
# Prefixes of generated names (``tamper.DeleteLogGroup``, ``policy``) that a policy may also name.
GENERATED_PREFIXES = ("tamper.",)


@lru_cache(maxsize=1)
def known_pack_names() -> frozenset[str]:
    """The pack names ``rule_packs`` may list: every pack the detector ships, and its alias for all."""
    return frozenset([DEFAULT_PACK_ALIAS, *available_packs()])


@lru_cache(maxsize=1)
def known_rule_ids() -> frozenset[str]:
    """Every rule id of every shipped pack, read from the packs' data: building the rules (conditions
    compiled, patterns checked) is the detector's work, done only where commands are judged."""
    return shipped_rule_ids()


def known_rule_or_limit_names() -> frozenset[str]:
    return (
        known_rule_ids()
        | frozenset(LIMIT_NAMES)
        | frozenset(c.value for c in StartCheck)
        | frozenset(f"keyless.{p.value}" for p in KeylessPathName)
    )


def is_known_rule_or_limit(name: str) -> bool:
    return name in known_rule_or_limit_names() or name.startswith(GENERATED_PREFIXES)
