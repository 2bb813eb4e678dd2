"""The command-risk detector: normalisation, rules as data (YAML packs), RE2 matching, verdicts.

Use ``get_detector(packs)`` and then ``judge_command`` / ``judge_output``; ``verdict_for`` turns
findings and a policy's action table into allow / alert / terminate.
"""

from ssm_warden.detect.verdict import Verdict, verdict_for

__all__ = ["Verdict", "verdict_for"]
