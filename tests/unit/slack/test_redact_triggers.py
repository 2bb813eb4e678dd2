"""``redact`` checks each rule's trigger words with a plain loop and lower-cases the text again only
after a rule changed it: the same masking as checking with ``any(...)`` and lower-casing after every
rule, which this property holds it against on text built from the trigger words themselves."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ssm_warden.slack import redact as redact_module
from ssm_warden.slack.redact import redact


def _redact_plainly(text: str) -> str:
    lowered = text.lower()
    for rule in redact_module._RULES:
        if rule.triggers is not None and not any(t in lowered for t in rule.triggers):
            continue
        text = redact_module._sub_keyed(rule, text) if rule.keyed else rule.pattern.sub(rule.replace, text)
        lowered = text.lower()
    return text


_TRIGGERS = sorted({t for rule in redact_module._RULES for t in (rule.triggers or ())})
_PIECES = st.one_of(
    st.sampled_from(_TRIGGERS),
    st.sampled_from(
        [" ", "=", ":", "-p", "'", '"', "\n", "AKIA", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"]
    ),
    st.text(alphabet="abcXYZ0189/+_-.", min_size=1, max_size=30),
)


@settings(max_examples=600, deadline=None)
@given(st.lists(_PIECES, max_size=12).map("".join))
def test_redact_masks_as_checking_every_trigger_after_every_rule_would(text: str) -> None:
    assert redact(text) == _redact_plainly(text)
