"""ssm:TerminateSession, with a session that is already gone counted as done.

The call goes to the session's own account and region: this account's credentials for its own
sessions, the member account's terminate role for the others (organisation mode,
docs/organization.md): the only caller that asks for that role.
"""

from __future__ import annotations

from enum import StrEnum

from ssm_warden.clients import aws_client_for
from ssm_warden.errors import TransientError
from ssm_warden.models.actions import SessionRef

# Error codes that mean the session is already over: termination has nothing left to do.
_ALREADY_GONE = {"DoesNotExistException", "InvalidSessionId", "SessionNotFound"}


class TerminationResult(StrEnum):
    TERMINATED = "terminated"
    ALREADY_ENDED = "already_ended"


def terminate_session(session: SessionRef) -> TerminationResult:
    """Terminate one session. Throttling and 5xx are retried with backoff by the client (standard
    mode, 5 attempts); what still fails, a member role that cannot be assumed included, raises
    ``TransientError`` so that SQS delivers it again (and, in the end, to the dead-letter queue).
    A session in another account while organisation mode is off raises ``ConfigError``."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        ssm = aws_client_for("ssm", session.account, session.region, purpose="terminate")
        ssm.terminate_session(SessionId=session.session_id)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        operation = getattr(exc, "operation_name", "TerminateSession")
        if code in _ALREADY_GONE and operation == "TerminateSession":
            return TerminationResult.ALREADY_ENDED
        raise TransientError(
            f"{operation} for session {session.session_id} in {session.account} failed: {code}"
        ) from exc
    except BotoCoreError as exc:
        raise TransientError(f"TerminateSession {session.session_id} failed: {exc}") from exc
    return TerminationResult.TERMINATED
