"""Sending ASFF findings with ``securityhub:BatchImportFindings``: batched (100 per call, the API's
limit), each to the account the session belongs to (organisation mode: through the member role),
failures retried by raising, as a failed Slack post is (the action is delivered again by SQS)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from ssm_warden.clients import aws_client_for
from ssm_warden.errors import TransientError

BATCH = 100


def import_findings(findings: Sequence[dict[str, Any]], client_for: Any = aws_client_for) -> int:
    """Import the findings, grouped by account and region. Returns how many were accepted; raises
    ``TransientError`` when any was refused or the call failed."""
    from botocore.exceptions import BotoCoreError, ClientError

    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for finding in findings:
        region = finding["Resources"][0].get("Region") or "us-east-1"
        groups[(finding["AwsAccountId"], region)].append(finding)
    accepted = 0
    for (account, region), batch in groups.items():
        client = client_for("securityhub", account, region)
        for start in range(0, len(batch), BATCH):
            try:
                response = client.batch_import_findings(Findings=batch[start : start + BATCH])
            except (ClientError, BotoCoreError) as exc:
                raise TransientError(f"BatchImportFindings to {account} failed: {exc}") from exc
            if response.get("FailedCount"):
                first = (response.get("FailedFindings") or [{}])[0]
                raise TransientError(
                    f"Security Hub refused {response['FailedCount']} findings: {first.get('ErrorMessage')}"
                )
            accepted += int(response.get("SuccessCount", 0))
    return accepted


class SecurityHubNotifier:
    """Wraps the Slack (or log) notifier: every delivered action is also a Security Hub finding."""

    def __init__(self, inner: Any, clock: Any = None) -> None:
        self.inner = inner
        from ssm_warden.clock import utc_now

        self.clock = clock or utc_now

    def deliver(self, action: Any, outcome: str) -> Any:
        from ssm_warden.securityhub.asff import to_asff

        # Security Hub first: re-importing the same finding Id only updates it, so a retry after a
        # failed Slack post does no harm, while the reverse order would post to Slack twice.
        finding = to_asff(action, outcome, now=self.clock())
        if finding is not None and outcome != "failed":
            import_findings([finding])
        return self.inner.deliver(action, outcome)

    def session_ended(self, session: Any, summary: Any) -> Any:
        if hasattr(self.inner, "session_ended"):
            return self.inner.session_ended(session, summary)
        return None
