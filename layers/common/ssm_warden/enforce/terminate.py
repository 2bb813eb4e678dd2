"""ssm:TerminateSession, with a session that is already gone counted as done."""

from __future__ import annotations

from enum import StrEnum

from ssm_warden.clients import aws_client
from ssm_warden.errors import TransientError
from ssm_warden.models.actions import SessionRef

# Error codes that mean the session is already over: termination has nothing left to do.
_ALREADY_GONE = {"DoesNotExistException", "InvalidSessionId", "SessionNotFound"}


class TerminationResult(StrEnum):
    TERMINATED = "terminated"
    ALREADY_ENDED = "already_ended"


def terminate_session(session: SessionRef) -> TerminationResult:
    """Terminate one session. Throttling and 5xx are retried with backoff by the client (standard
    mode, 5 attempts); what still fails raises ``TransientError`` so that SQS delivers it again."""
    from botocore.exceptions import BotoCoreError, ClientError

    ssm = aws_client("ssm")
    try:
        ssm.terminate_session(SessionId=session.session_id)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in _ALREADY_GONE:
            return TerminationResult.ALREADY_ENDED
        raise TransientError(f"TerminateSession {session.session_id} failed: {code}") from exc
    except BotoCoreError as exc:
        raise TransientError(f"TerminateSession {session.session_id} failed: {exc}") from exc
    return TerminationResult.TERMINATED
