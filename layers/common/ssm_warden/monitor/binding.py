"""Which of a batch's log events may count for the session its stream is named after. Pure.

Everything in a session-log event is written by whoever can call ``PutLogEvents`` on the group: any
instance that streams sessions can write into any session's stream, with any ``sessionId``,
``target.id`` and ``userIdentity`` (aws-facts §7). So an event counts for session S only when

- the payload's ``logGroup`` is S's account's session-log group (checked for the whole batch: a
  payload holds one stream of one group, and CloudWatch Logs, not the writer, names them);
- its embedded ``sessionId`` is the stream name, and its ``target.id`` and principal ARN are the
  ones S's StartSession recorded in the ledger (CloudTrail; or DescribeSessions, through the
  sweeper's reconciliation).

A streamed event that claims S but does not match it is **forged**: it is refused (never judged
against S, never S's output) and reported on its own. A plain-text transcript event (streaming off)
carries no claim: the stream name, the ledger and the log group are all that bind it.

A stream whose session the ledger does not know (yet) is **unverified**: its events are judged, but
what they lead to is at most an alert that shows who the log claims to be, labelled as claimed,
without a Terminate button, until CloudTrail confirms the session.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from ssm_warden.logs.payload import Claim, EventLines
from ssm_warden.models.session import SessionRecord


class Standing(StrEnum):
    VERIFIED = "verified"  # the ledger knows the session: its events are judged as its own
    UNVERIFIED = "unverified"  # the ledger does not know it: alerts only, labelled as claimed


@dataclass(frozen=True, slots=True)
class Forgery:
    """A refused event: its position in the batch and which claims did not match (field names only:
    the claimed values are the writer's words)."""

    position: int
    mismatched: tuple[str, ...]


@dataclass(slots=True)
class Binding:
    standing: Standing
    accepted: list[int] = field(default_factory=list)  # positions of the events that count
    forged: list[Forgery] = field(default_factory=list)


def expected_log_group(owner: str, own_group: str, member_groups: dict[str, str]) -> str:
    """The session-log group of the account a payload comes from (organisation mode: the member's
    registered group; unregistered members and this account: the configured group)."""
    return member_groups.get(owner, own_group)


def ledger_knows(record: SessionRecord | None) -> bool:
    """The ledger has the session from CloudTrail's StartSession (or DescribeSessions), with the
    target and principal that its log events are checked against."""
    if record is None or not (record.started_at is not None or record.discovered):
        return False
    return bool(record.target_id and record.principal and record.principal.arn)


def bind(events: EventLines, stream: str, record: SessionRecord | None) -> Binding:
    """Sort the batch's events into the ones that count for session ``stream`` and the forged ones."""
    known = ledger_knows(record)
    binding = Binding(Standing.VERIFIED if known else Standing.UNVERIFIED)
    target = record.target_id if record and known else None
    principal = _arn(record.principal.arn) if record and known and record.principal else None
    checked: dict[Claim, tuple[str, ...]] = {}  # a stream's events usually share one claim object
    last: Claim | None = None
    mismatched: tuple[str, ...] = ()
    for k, claim in enumerate(events.claims):
        if claim is None:  # a plain-text transcript chunk: bound by stream, ledger and group only
            binding.accepted.append(k)
            continue
        if claim is not last:  # (the same object as the last event's: the same verdict)
            found = checked.get(claim)
            if found is None:
                found = checked[claim] = _mismatches(claim, stream, target, principal, known)
            last, mismatched = claim, found
        if mismatched:
            binding.forged.append(Forgery(k, mismatched))
        else:
            binding.accepted.append(k)
    return binding


def _mismatches(
    claim: Claim, stream: str, target: str | None, principal: str | None, known: bool
) -> tuple[str, ...]:
    wrong: list[str] = []
    if claim.session_id != stream:
        wrong.append("sessionId")
    if known:
        if claim.target_id != target:
            wrong.append("target.id")
        if _arn(claim.principal_arn) != principal:
            wrong.append("userIdentity.arn")
    return tuple(wrong)


def _arn(value: str | None) -> str | None:
    """ARNs compared without the ``arn:`` prefix that DescribeSessions' ``Owner`` may lack."""
    if not value:
        return None
    return value[4:] if value.startswith("arn:") else value
