"""Tamper rules for session logging itself: Session Manager documents, the session-log group and its
subscription, and the CloudTrail trails the ledger depends on. Pure functions of one CloudTrail call.

Critical: the call stops or redirects session logging (streaming off, another log group, the
preferences deleted, our subscription removed or narrowed, the trail stopped or its management
events dropped). High: it opens a way around logging or changes it in a way we cannot verify.
"""

from __future__ import annotations

import json
from typing import Any

from ssm_warden.enforce.own_resources import WardenResources
from ssm_warden.enforce.tamper_base import TamperSignal, call_name, made_by_cloudformation, param, who
from ssm_warden.models.cloudtrail import CloudTrailDetail
from ssm_warden.models.findings import Severity

PREFERENCES_DOCUMENT = "SSM-SessionManagerRunShell"
# Session types that give a shell or run commands (port forwarding and SSH log nothing by design).
SHELL_SESSION_TYPES = frozenset({"Standard_Stream", "InteractiveCommands", "NonInteractiveCommands"})
_OFF_WORDS = frozenset({"false", "no", "off", "0", "n", ""})


def parse_document(content: object) -> dict[str, Any] | None:
    """A Session document's content, JSON or YAML (``documentFormat: YAML``), or None if unreadable."""
    if isinstance(content, dict):
        return content
    if not isinstance(content, str) or not content.strip():
        return None
    try:
        doc = json.loads(content)
    except ValueError:
        import yaml  # only a YAML-format document needs it (not on every session event's path)

        try:
            doc = yaml.safe_load(content)
        except yaml.YAMLError:
            return None
    return doc if isinstance(doc, dict) else None


def _off(value: object) -> bool:
    """A boolean input that is off: false, or a string such as "false" (SSM accepts both shapes)."""
    if value is None or value is False:
        return True
    if value is True:
        return False
    return str(value).strip().lower() in _OFF_WORDS


def _shell_profile_hides(inputs: dict[str, Any]) -> list[str]:
    """Detector findings of the visibility kind in the shell profile every session runs first."""
    from ssm_warden.detect.detector import get_detector

    profile = inputs.get("shellProfile")
    texts = [str(v) for v in profile.values() if v] if isinstance(profile, dict) else []
    titles: list[str] = []
    for text in texts:
        for finding in get_detector().judge_command(text):
            if finding.category in ("defense_evasion", "visibility") and finding.title not in titles:
                titles.append(finding.title)
    return titles


def logging_broken(doc: dict[str, Any], session_log_group: str) -> str | None:
    """Why sessions under this document are not streamed to the session-log group, or None."""
    inputs = doc.get("inputs")
    inputs = inputs if isinstance(inputs, dict) else {}
    streaming = inputs.get("cloudWatchStreamingEnabled")
    group = inputs.get("cloudWatchLogGroupName")
    if not group or not str(group).strip():
        return "it names no CloudWatch log group (cloudWatchLogGroupName is empty or missing)"
    if str(group).strip() != session_log_group:
        return f"session logs now go to {str(group)!r}, not the watched group {session_log_group!r}"
    if _off(streaming):
        shown = "missing" if streaming is None else repr(streaming)
        return (
            f"CloudWatch streaming is off (cloudWatchStreamingEnabled: {shown}), "
            "so commands are seen only when a session ends"
        )
    hiding = _shell_profile_hides(inputs)
    if hiding:
        return "the shell profile every session runs first hides it: " + "; ".join(hiding)
    return None


def _document(detail: CloudTrailDetail, resources: WardenResources) -> TamperSignal | None:
    params = detail.request_parameters or {}
    name = str(param(params, "name") or "")
    call = call_name(detail)
    if call == "DeleteDocument":
        if name != PREFERENCES_DOCUMENT:
            return None
        return TamperSignal(
            "Session Manager preferences deleted",
            f"{who(detail)} deleted {PREFERENCES_DOCUMENT}: sessions fall back to the defaults, "
            "which stream nothing to CloudWatch",
            Severity.CRITICAL,
        )
    if call == "UpdateDocumentDefaultVersion":
        if name != PREFERENCES_DOCUMENT:
            return None
        return TamperSignal(
            "Session Manager preferences changed",
            f"{who(detail)} called {call} on {PREFERENCES_DOCUMENT}: another version may not stream logs",
            Severity.HIGH,
        )
    doc = parse_document(param(params, "content"))
    if name == PREFERENCES_DOCUMENT:
        broken = logging_broken(doc, resources.session_log_group) if doc is not None else None
        if broken:
            return TamperSignal(
                "Session log streaming switched off",
                f"{who(detail)} called {call} on {PREFERENCES_DOCUMENT}: {broken}",
                Severity.CRITICAL,
            )
        return TamperSignal(
            "Session Manager preferences changed",
            f"{who(detail)} called {call} on {PREFERENCES_DOCUMENT}",
            Severity.HIGH,
        )
    # Any other document: a Session document that gives a shell without streaming is a way around
    # the command watch for whoever may pass --document-name.
    is_session = str(param(params, "documentType") or "") == "Session" or (
        doc is not None and "sessionType" in doc
    )
    if not is_session or doc is None or doc.get("sessionType") not in SHELL_SESSION_TYPES:
        return None
    broken = logging_broken(doc, resources.session_log_group)
    if not broken:
        return None
    return TamperSignal(
        "Session document without session logging",
        f"{who(detail)} called {call} on Session document {name!r} ({doc.get('sessionType')}): {broken}. "
        f"Sessions started with it (--document-name {name}) are not watched",
        Severity.HIGH,
    )


def _subscription(detail: CloudTrailDetail, resources: WardenResources, group: str) -> TamperSignal | None:
    params = detail.request_parameters or {}
    call = call_name(detail)
    name = str(param(params, "filterName") or "")
    destination = str(param(params, "destinationArn") or "")
    named_ours = resources.log_filter is not None and name == resources.log_filter
    ours = named_ours or (
        call == "PutSubscriptionFilter"
        and (resources.is_command_monitor(destination) or resources.is_session_log_destination(destination))
    )
    unknown = resources.log_filter is None
    if made_by_cloudformation(detail) and ours:
        return None  # ssm-warden's own deployment (re)creating its subscription
    if call == "DeleteSubscriptionFilter":
        if ours or unknown:
            return TamperSignal(
                "Session log group: DeleteSubscriptionFilter",
                f"{who(detail)} deleted subscription filter {name!r} on {group}: "
                "session logs no longer reach the command watch",
                Severity.CRITICAL,
            )
        return TamperSignal(
            "Session log group: another subscription removed",
            f"{who(detail)} deleted subscription filter {name!r} on {group} (not ssm-warden's)",
            Severity.MEDIUM,
        )
    pattern = str(param(params, "filterPattern") or "").strip()
    if unknown and not resources.command_monitor:
        return TamperSignal(
            "Session log subscription changed",
            f"{who(detail)} put subscription filter {name!r} on {group} to {destination or '?'}: "
            "ssm-warden's own filter and function names are not configured here, so whether this "
            "replaced the command watch's subscription cannot be told",
            Severity.HIGH,
        )
    if ours:
        if (
            resources.command_monitor
            and not resources.is_command_monitor(destination)
            and not resources.is_session_log_destination(destination)
        ):
            return TamperSignal(
                "Session log subscription redirected",
                f"{who(detail)} replaced subscription filter {name!r} on {group}: session logs now go "
                f"to {destination or 'an unknown destination'}, not the command watch",
                Severity.CRITICAL,
            )
        if pattern:
            return TamperSignal(
                "Session log subscription narrowed",
                f"{who(detail)} set filter pattern {pattern!r} on subscription {name!r} of {group}: "
                "log events that do not match it never reach the command watch",
                Severity.CRITICAL,
            )
        return TamperSignal(
            "Session log subscription re-put",
            f"{who(detail)} called PutSubscriptionFilter {name!r} on {group} outside a deployment "
            "(destination and pattern unchanged)",
            Severity.MEDIUM,
        )
    maybe_ours = " If it was ssm-warden's filter, the command watch is now blind." if unknown else ""
    return TamperSignal(
        "Session logs copied to another destination",
        f"{who(detail)} added subscription filter {name!r} on {group} to {destination or 'somewhere'}"
        + (f" with pattern {pattern!r}" if pattern else "")
        + ": session logs leave ssm-warden's path, and the group has only two subscription slots."
        + maybe_ours,
        Severity.HIGH,
    )


def _log_group(detail: CloudTrailDetail, resources: WardenResources) -> TamperSignal | None:
    params = detail.request_parameters or {}
    group = resources.session_log_group
    if param(params, "logGroupName") != group:
        return None
    call = call_name(detail)
    if call in ("PutSubscriptionFilter", "DeleteSubscriptionFilter"):
        return _subscription(detail, resources, group)
    if call == "DeleteLogGroup":
        return TamperSignal(
            "Session log group: DeleteLogGroup",
            f"{who(detail)} called DeleteLogGroup on {group}",
            Severity.CRITICAL,
        )
    if call == "DeleteLogStream":
        stream = param(params, "logStreamName") or "a stream"
        return TamperSignal(
            "Session log stream deleted",
            f"{who(detail)} deleted log stream {stream!r} of {group}: that session's record is gone",
            Severity.HIGH,
        )
    if call == "PutRetentionPolicy":
        return TamperSignal(
            "Session log group: PutRetentionPolicy",
            f"{who(detail)} called PutRetentionPolicy on {group} "
            f"({param(params, 'retentionInDays') or '?'} days)",
            Severity.MEDIUM,
        )
    return None


def _records_session_calls(params: dict[str, Any]) -> bool | None:
    """Whether a trail's new event selectors still record write management events from SSM.

    None when it cannot be told (an unknown selector shape).
    """
    basic = param(params, "eventSelectors")
    advanced = param(params, "advancedEventSelectors")
    if isinstance(advanced, list) and advanced:
        return any(_advanced_records_ssm(s) for s in advanced if isinstance(s, dict))
    if isinstance(basic, list):
        for selector in basic:
            if not isinstance(selector, dict):
                return None
            include = param(selector, "includeManagementEvents")
            read_write = str(param(selector, "readWriteType") or "All")
            excluded = param(selector, "excludeManagementEventSources") or []
            if (
                include is not False
                and read_write in ("All", "WriteOnly")
                and "ssm.amazonaws.com" not in excluded
            ):
                return True
        return False
    return None


def _advanced_records_ssm(selector: dict[str, Any]) -> bool:
    fields = param(selector, "fieldSelectors") or []
    management = False
    for field in fields:
        if not isinstance(field, dict):
            continue
        key = str(param(field, "field") or "")
        equals = [str(v) for v in param(field, "equals") or []]
        not_equals = [str(v) for v in param(field, "notEquals") or []]
        if key == "eventCategory":
            management = "Management" in equals
        elif (key == "readOnly" and equals == ["true"]) or (
            key == "eventSource"
            and ("ssm.amazonaws.com" in not_equals or (equals and "ssm.amazonaws.com" not in equals))
        ):
            return False  # only reads, or not SSM's calls
    return management


def _trail(detail: CloudTrailDetail) -> TamperSignal | None:
    params = detail.request_parameters or {}
    call = call_name(detail)
    trail = param(params, "name") or param(params, "trailName") or "a trail"
    if call in ("StopLogging", "DeleteTrail"):
        return TamperSignal(
            f"CloudTrail {call}",
            f"{who(detail)} called {call} on {trail}: session events may stop arriving",
            Severity.CRITICAL,
        )
    if call == "PutEventSelectors":
        records = _records_session_calls(params)
        if records is False:
            return TamperSignal(
                "CloudTrail stops recording session calls",
                f"{who(detail)} changed the event selectors of {trail}: write management events from "
                "ssm.amazonaws.com (StartSession, TerminateSession) are no longer recorded",
                Severity.CRITICAL,
            )
        return TamperSignal(
            "CloudTrail event selectors changed",
            f"{who(detail)} changed the event selectors of {trail}"
            + (" (whether session calls are still recorded could not be told)" if records is None else ""),
            Severity.HIGH if records is None else Severity.MEDIUM,
        )
    if call == "UpdateTrail":
        regional = param(params, "isMultiRegionTrail") is False
        return TamperSignal(
            "CloudTrail trail reconfigured",
            f"{who(detail)} called UpdateTrail on {trail}"
            + (": it no longer records every region" if regional else ": check where it still records"),
            Severity.HIGH,
        )
    return None


def session_logging_tamper(detail: CloudTrailDetail, resources: WardenResources) -> TamperSignal | None:
    """The signal of a call on Session Manager documents, the session-log group or a trail."""
    source = detail.event_source
    if source == "ssm.amazonaws.com" and call_name(detail) in (
        "UpdateDocument",
        "UpdateDocumentDefaultVersion",
        "CreateDocument",
        "DeleteDocument",
    ):
        return _document(detail, resources)
    if source == "logs.amazonaws.com":
        return _log_group(detail, resources)
    if source == "cloudtrail.amazonaws.com":
        return _trail(detail)
    return None
