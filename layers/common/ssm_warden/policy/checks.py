"""Checks beyond the schema: names that must exist, and choices that weaken the watch. Pure.

Refused (``problems``): rule packs and rule ids that do not exist (a typo would make the detector
fail on every batch, or silently leave a rule untouched), exemptions naming an unknown rule, and
exemption reasons that show nothing (zero-width characters).

Warned about (``warnings``): a scope that judges no command at all (``rule_packs: []``), loudest when
its actions terminate; ``mode: monitor`` on a production scope; exemptions that do not end within
``EXEMPTION_HORIZON`` (or have already ended); exemption globs that match no rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from fnmatch import fnmatchcase
from typing import Any

from ssm_warden.models.actions import Mode
from ssm_warden.policy.catalog import (
    is_known_rule_or_limit,
    known_pack_names,
    known_rule_or_limit_names,
)
from ssm_warden.policy.evaluate import DEFAULTS_SCOPE, all_settings
from ssm_warden.policy.model import Policy, ResponseAction, ScopeSettings
from ssm_warden.policy.visible import has_visible_text

EXEMPTION_HORIZON = timedelta(days=90)
_GLOB = re.compile(r"[*?\[]")
_PROD = re.compile(r"prod", re.IGNORECASE)

Path = tuple[Any, ...]


@dataclass(frozen=True)
class Finding:
    path: Path
    message: str


def _scope_path(index: int | None) -> Path:
    return ("defaults",) if index is None else ("scopes", index)


def _named(policy: Policy) -> list[tuple[int | None, ScopeSettings]]:
    return [(None, policy.defaults), *enumerate(policy.scopes)]


def _unknown_names(policy: Policy) -> list[Finding]:
    out: list[Finding] = []
    packs = known_pack_names()
    for index, settings in _named(policy):
        base = _scope_path(index)
        for position, pack in enumerate(settings.rule_packs or []):
            if pack not in packs:
                out.append(
                    Finding(
                        (*base, "rule_packs", position),
                        f"unknown rule pack {pack!r} (known: {', '.join(sorted(packs))})",
                    )
                )
        for rule in settings.rules or {}:
            if not is_known_rule_or_limit(rule):
                out.append(
                    Finding(
                        (*base, "rules", rule),
                        f"unknown rule id {rule!r} (`ssm-warden rules doc` lists them; limits: "
                        "idle_minutes, max_minutes, logging_gap)",
                    )
                )
    for position, exemption in enumerate(policy.exemptions):
        if not has_visible_text(exemption.reason):
            out.append(Finding(("exemptions", position, "reason"), "the reason shows no visible character"))
        if exemption.rule and not _GLOB.search(exemption.rule) and not is_known_rule_or_limit(exemption.rule):
            out.append(
                Finding(("exemptions", position, "rule"), f"unknown rule id or limit {exemption.rule!r}")
            )
    return out


def _looks_like_prod(policy: Policy, index: int | None) -> bool:
    if index is None:
        return False
    scope = policy.scopes[index]
    if _PROD.search(scope.name):
        return True
    for value in scope.match.tags.values():
        values = value if isinstance(value, list) else [value]
        if any(_PROD.search(v) for v in values):
            return True
    return False


def _weakening(policy: Policy, now: datetime) -> list[Finding]:
    out: list[Finding] = []
    effective = all_settings(policy)  # defaults first, then the scopes in order
    for (index, written), settings in zip(_named(policy), effective, strict=True):
        base = _scope_path(index)
        name = DEFAULTS_SCOPE if index is None else f"scope {settings.scope!r}"
        terminates = ResponseAction.TERMINATE in settings.actions.values()
        if not settings.rule_packs:
            where = (*base, "rule_packs") if "rule_packs" in written.model_fields_set else base
            tail = (
                "; its actions terminate, yet no command can ever lead there"
                if terminates
                else "; nothing typed there is judged"
            )
            out.append(Finding(where, f"{name} has no rule packs{tail}"))
        if _looks_like_prod(policy, index):
            if settings.mode is Mode.MONITOR:
                where = (*base, "mode") if "mode" in written.model_fields_set else base
                out.append(
                    Finding(
                        where,
                        f"{name} looks like production and is in monitor mode: nothing there is terminated",
                    )
                )
            for rule, override in (written.rules or {}).items():
                if override.mode is Mode.MONITOR or override.disabled:
                    what = "disabled" if override.disabled else "in monitor mode"
                    out.append(Finding((*base, "rules", rule), f"rule {rule!r} is {what} in {name}"))
    names = known_rule_or_limit_names()
    for position, exemption in enumerate(policy.exemptions):
        path = ("exemptions", position, "expires")
        if exemption.expires <= now:
            out.append(Finding(path, f"exemption has already ended ({exemption.expires.isoformat()})"))
        elif exemption.expires - now > EXEMPTION_HORIZON:
            out.append(
                Finding(
                    path,
                    f"exemption does not end within {EXEMPTION_HORIZON.days} days "
                    f"({exemption.expires.date().isoformat()}); renew it deliberately instead",
                )
            )
        glob = exemption.rule or ""
        if glob and _GLOB.search(glob) and not any(fnmatchcase(n, glob) for n in names):
            out.append(Finding(("exemptions", position, "rule"), f"rule glob {glob!r} matches no rule"))
        if not exemption.rule:
            out.append(
                Finding(("exemptions", position), "exemption names no rule: it covers every rule and limit")
            )
    return out


def check_policy(policy: Policy, now: datetime) -> tuple[list[Finding], list[Finding]]:
    """(problems, warnings) of a policy that passed the schema."""
    return _unknown_names(policy), _weakening(policy, now)
