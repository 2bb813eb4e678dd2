"""`require_reason`: a reason counts only when it shows something."""

from __future__ import annotations

import pytest

from ssm_warden.enforce.session_ref import session_facts, session_ref
from ssm_warden.enforce.start_checks import check_start
from ssm_warden.policy.evaluate import effective_settings
from tests.unit.enforce.test_decisions import POLICY, T0, record


def missing_reason(reason: str | None) -> bool:
    rec = record("prod", reason=reason)
    out = check_start(
        session=session_ref(rec),
        parameters={},
        settings=effective_settings(POLICY.policy, session_facts(rec)),
        policy=POLICY,
        now=T0,
        command_findings=[],
        open_for_principal=[],
        open_for_target=[],
    )
    return "missing_reason" in [a.rule_or_limit for a in out.actions]


@pytest.mark.parametrize(
    "reason", ["\u200b", "\u200b\u200b\u200b", "\u202e\u2066\u200f", " \u3164 ", "\ufeff\n\t"]
)
def test_an_invisible_reason_is_a_missing_reason(reason: str) -> None:
    assert missing_reason(reason)


@pytest.mark.parametrize("reason", ["INC-42", "\u200bINC-42", "障害対応"])
def test_a_visible_reason_is_a_reason(reason: str) -> None:
    assert not missing_reason(reason)
