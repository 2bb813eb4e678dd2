"""What the tamper rules share: the signal they return and how they read a CloudTrail call."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ssm_warden.models.cloudtrail import CloudTrailDetail
from ssm_warden.models.findings import Severity

CLOUDFORMATION = "cloudformation.amazonaws.com"
# Lambda's CloudTrail event names carry the API version: PutFunctionConcurrency20171031,
# UpdateFunctionConfiguration20150331v2.
_API_VERSION = re.compile(r"^(?P<name>[A-Za-z]+?)(?:\d{8}(?:v\d+)?)$")


@dataclass(frozen=True)
class TamperSignal:
    """A call that blinds session logging or ssm-warden: what to say, and how loud."""

    title: str
    why: str
    severity: Severity


def call_name(detail: CloudTrailDetail) -> str:
    """The API operation of a CloudTrail event, without a Lambda API version suffix."""
    found = _API_VERSION.match(detail.event_name)
    return found.group("name") if found else detail.event_name


def param(params: dict[str, Any], name: str) -> Any:
    """A request parameter by name, whatever its case (CloudTrail writes ``name``, APIs ``Name``)."""
    if name in params:
        return params[name]
    lowered = name.lower()
    for key, value in params.items():
        if key.lower() == lowered:
            return value
    return None


def who(detail: CloudTrailDetail) -> str:
    return detail.user_identity.arn or detail.user_identity.principal_id or "an unknown principal"


def made_by_cloudformation(detail: CloudTrailDetail) -> bool:
    """CloudFormation made this call (a stack deployment), by AWS's own marks on the event.

    ``invokedBy`` and ``sourceIPAddress`` are written by AWS, not by the caller (``userAgent`` is the
    caller's and is not trusted).
    """
    return CLOUDFORMATION in (detail.user_identity.invoked_by, detail.source_ip_address)
