"""Sending ASFF findings with ``securityhub:BatchImportFindings``: batched (100 per call, the API's
limit), each to the account the session belongs to (organisation mode: through the member role).

Failures that a retry may fix (throttling, 5xx, after the client's own backoff) raise
``TransientError``, so SQS delivers the action again, as for a failed Slack post. Failures no retry
fixes (Security Hub not enabled in that account, access denied, a finding refused as invalid) raise
``SecurityHubUnavailable``: the notifier logs and counts them and goes on to Slack, so a Security Hub
misconfiguration never holds back an alert."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from ssm_warden.clients import aws_client_for
from ssm_warden.errors import TransientError, WardenError

BATCH = 100
_PERMANENT = frozenset(
    {"InvalidAccessException", "AccessDeniedException", "AccessDenied", "InvalidInputException"}
)


class SecurityHubUnavailable(WardenError):
    """Security Hub refused the findings in a way no retry fixes."""


def executor_client(service: str, account: str, region: str) -> Any:
    """The executor's client for ``account``: in a member account its own member role (the one that
    terminates), since the read-only member role does not trust the executor."""
    return aws_client_for(service, account, region, purpose="terminate")


def import_findings(findings: Sequence[dict[str, Any]], client_for: Any = executor_client) -> int:
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
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                error = SecurityHubUnavailable if code in _PERMANENT else TransientError
                raise error(f"BatchImportFindings to {account} failed: {code}") from exc
            except BotoCoreError as exc:
                raise TransientError(f"BatchImportFindings to {account} failed: {exc}") from exc
            if response.get("FailedCount"):
                first = (response.get("FailedFindings") or [{}])[0]
                error = (
                    SecurityHubUnavailable if first.get("ErrorCode") in ("InvalidInput",) else TransientError
                )
                raise error(
                    f"Security Hub refused {response['FailedCount']} findings: {first.get('ErrorMessage')}"
                )
            accepted += int(response.get("SuccessCount", 0))
    return accepted


class SecurityHubNotifier:
    """Wraps the Slack (or log) notifier: every delivered action is also a Security Hub finding."""

    def __init__(self, inner: Any, clock: Any = None, importer: Any = None) -> None:
        self.inner = inner
        from ssm_warden.clock import utc_now

        self.clock = clock or utc_now
        self.importer = importer or import_findings

    def deliver(self, action: Any, outcome: str) -> Any:
        from ssm_warden.securityhub.asff import to_asff

        # Security Hub first: re-importing the same finding Id only updates it, so a retry after a
        # failed Slack post does no harm, while the reverse order would post to Slack twice.
        finding = to_asff(action, outcome, now=self.clock())
        if finding is not None and outcome != "failed":
            try:
                self.importer([finding])
            except SecurityHubUnavailable as exc:
                from aws_lambda_powertools.metrics import MetricUnit

                from ssm_warden.observability import logger, metrics

                logger().error(
                    "Security Hub refused a finding", extra={"action_id": action.action_id, "error": str(exc)}
                )
                metrics().add_metric(name="SecurityHubFailures", unit=MetricUnit.Count, value=1)
        return self.inner.deliver(action, outcome)

    def session_ended(self, session: Any, summary: Any) -> Any:
        if hasattr(self.inner, "session_ended"):
            return self.inner.session_ended(session, summary)
        return None
