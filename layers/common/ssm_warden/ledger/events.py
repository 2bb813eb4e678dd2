"""CloudTrail session events → ledger changes. Pure: no AWS calls, no clock."""

from __future__ import annotations

from ssm_warden.errors import MalformedEventError
from ssm_warden.models.cloudtrail import (
    SESSION_EVENT_NAMES,
    CloudTrailDetail,
    SessionRequestParameters,
    SessionResponseElements,
    UserIdentity,
)
from ssm_warden.models.session import (
    DeniedAttempt,
    LedgerChange,
    Principal,
    SessionResumed,
    SessionStarted,
    SessionTerminated,
)

DEFAULT_SHELL_DOCUMENT = "SSM-SessionManagerRunShell"


def principal_from(identity: UserIdentity) -> Principal:
    issuer = identity.session_context.session_issuer if identity.session_context else None
    role_arn = issuer.arn if issuer and issuer.type == "Role" else None
    role_session_name = None
    if identity.type == "AssumedRole" and identity.arn and "/" in identity.arn:
        role_session_name = identity.arn.rsplit("/", 1)[-1]
    user_name = identity.arn.rsplit("/", 1)[-1] if identity.type == "IAMUser" and identity.arn else None
    return Principal(
        arn=identity.arn,
        type=identity.type,
        account_id=identity.account_id,
        principal_id=identity.principal_id,
        role_arn=role_arn,
        role_session_name=role_session_name,
        user_name=user_name,
    )


def _is_warden(principal: Principal, warden_role_arn: str | None, member_role_name: str | None) -> bool:
    if warden_role_arn and warden_role_arn in (principal.role_arn, principal.arn):
        return True
    # In organisation mode the executor terminates member sessions through the member role.
    return bool(
        member_role_name and principal.role_arn and principal.role_arn.endswith(f":role/{member_role_name}")
    )


def change_from_event(
    detail: CloudTrailDetail, *, warden_role_arn: str | None = None, member_role_name: str | None = None
) -> LedgerChange:
    """What one CloudTrail session event means for the ledger.

    Raises ``MalformedEventError`` for an event that is not a session call or lacks the session id.
    """
    if detail.event_source != "ssm.amazonaws.com" or detail.event_name not in SESSION_EVENT_NAMES:
        raise MalformedEventError(f"not a session event: {detail.event_source} {detail.event_name}")
    principal = principal_from(detail.user_identity)
    account = detail.recipient_account_id or detail.user_identity.account_id
    if not account:
        raise MalformedEventError(f"event {detail.event_id} names no account")
    request = SessionRequestParameters.model_validate(detail.request_parameters or {})
    response = SessionResponseElements.model_validate(detail.response_elements or {})
    session_id = response.session_id or request.session_id
    common = {
        "event_id": detail.event_id,
        "account": account,
        "region": detail.aws_region,
        "at": detail.event_time,
        "principal": principal,
    }

    if detail.error_code:
        return DeniedAttempt(
            **common,
            event_name=detail.event_name,
            error_code=detail.error_code,
            error_message=detail.error_message,
            target_id=request.target,
            document_name=request.document_name,
            session_id=session_id,
            source_ip=detail.source_ip_address,
        )
    if not session_id:
        raise MalformedEventError(f"{detail.event_name} event {detail.event_id} carries no session id")
    if detail.event_name == "StartSession":
        return SessionStarted(
            **common,
            session_id=session_id,
            source_ip=detail.source_ip_address,
            user_agent=detail.user_agent,
            target_id=request.target,
            document_name=request.document_name or DEFAULT_SHELL_DOCUMENT,
            parameters=request.parameters or {},
            reason=request.reason,
        )
    if detail.event_name == "ResumeSession":
        return SessionResumed(**common, session_id=session_id)
    return SessionTerminated(
        **common, session_id=session_id, by_warden=_is_warden(principal, warden_role_arn, member_role_name)
    )
