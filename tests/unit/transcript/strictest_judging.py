"""The live path's judging (``monitor.service.judge_extracted``) of an extracted transcript under the
default policy's strictest scope, for tests of what may end a session."""

from __future__ import annotations

from types import SimpleNamespace

from ssm_warden.detect.detector import get_detector
from ssm_warden.models.actions import SessionRef
from ssm_warden.monitor.judging import BatchJudge
from ssm_warden.monitor.service import Judged, judge_extracted
from ssm_warden.policy.evaluate import strictest_settings
from ssm_warden.policy.loader import default_policy
from ssm_warden.policy.store import PolicyState
from ssm_warden.transcript.extract import Extracted


def judged_strictest(extracted: Extracted) -> Judged:
    loaded = default_policy()
    settings = strictest_settings(loaded.policy)
    return judge_extracted(
        extracted,
        SimpleNamespace(event_ids=["0"], timestamps=[1_704_347_159_000]),  # type: ignore[arg-type]
        session=SessionRef(session_id="s-1", account="123456789012", region="us-east-1"),
        settings=settings,
        policy_state=PolicyState(loaded),
        detector=BatchJudge(get_detector(tuple(settings.rule_packs))),
        force_monitor=False,
    )
