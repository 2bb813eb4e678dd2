"""Which log events count for the session their stream is named after (pure; no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ssm_warden.logs.payload import Claim, EventLines
from ssm_warden.models.session import Principal, SessionRecord
from ssm_warden.monitor.binding import Standing, bind, expected_log_group, ledger_knows

STREAM = "alice-0e34861185201706f"
TARGET = "i-0123456789abcdef0"
ALICE = "arn:aws:sts::123456789012:assumed-role/Admin/alice"
STARTED = SessionRecord(
    session_id=STREAM,
    account="123456789012",
    region="us-east-1",
    target_id=TARGET,
    principal=Principal(arn=ALICE),
    started_at=datetime(2026, 11, 28, 9, tzinfo=UTC),
)
# Found by reconciliation: DescribeSessions' Owner may lack the "arn:" prefix.
DISCOVERED = SessionRecord(
    session_id=STREAM,
    account="123456789012",
    region="us-east-1",
    target_id=TARGET,
    principal=Principal(arn=ALICE.removeprefix("arn:")),
    discovered=True,
)


def batch(*claims: Claim | None) -> EventLines:
    events = EventLines()
    for n, claim in enumerate(claims):
        events.event_ids.append(str(n))
        events.timestamps.append(0)
        events.starts.append(len(events.lines))
        events.lines.append(f"line {n}")
        events.claims.append(claim)
    return events


# (claim, what must be wrong with it; () = it counts for the session)
MUST = [
    (Claim(STREAM, TARGET, ALICE), ()),
    (None, ()),  # a plain-text transcript chunk: bound by stream, ledger and group
]
MUST_NOT = [
    (Claim(STREAM, "i-0deadbeefdeadbeef", ALICE), ("target.id",)),
    (Claim(STREAM, TARGET, "arn:aws:sts::123456789012:assumed-role/Developer/dana"), ("userIdentity.arn",)),
    (Claim("bob-0123456789abcdef0", TARGET, ALICE), ("sessionId",)),
    (
        Claim(None, None, None),
        ("sessionId", "target.id", "userIdentity.arn"),
    ),  # a streamed event without claims
    (Claim(STREAM.upper(), TARGET, ALICE), ("sessionId",)),
]


@pytest.mark.parametrize("record", [STARTED, DISCOVERED], ids=["started", "discovered"])
@pytest.mark.parametrize(("claim", "wrong"), MUST + MUST_NOT)
def test_an_event_counts_only_when_its_claims_match_the_ledger(
    record: SessionRecord, claim: Claim | None, wrong: tuple[str, ...]
) -> None:
    binding = bind(batch(claim), STREAM, record)
    assert binding.standing is Standing.VERIFIED
    if wrong:
        assert binding.accepted == [] and [f.mismatched for f in binding.forged] == [wrong]
    else:
        assert binding.accepted == [0] and binding.forged == []


def test_a_stream_the_ledger_does_not_know_is_unverified_and_only_its_name_is_checked() -> None:
    bare = SessionRecord(session_id=STREAM, account="123456789012", region="us-east-1")  # a watch state only
    for record in (None, bare):
        binding = bind(
            batch(Claim(STREAM, "i-any", "arn:any"), Claim("other", TARGET, ALICE), None), STREAM, record
        )
        assert binding.standing is Standing.UNVERIFIED
        assert binding.accepted == [0, 2]
        assert [f.position for f in binding.forged] == [1]


def test_a_ledger_record_without_target_or_principal_cannot_vouch_for_a_log() -> None:
    assert ledger_knows(STARTED) and ledger_knows(DISCOVERED)
    assert not ledger_knows(STARTED.model_copy(update={"target_id": None}))
    assert not ledger_knows(STARTED.model_copy(update={"principal": None}))
    assert not ledger_knows(STARTED.model_copy(update={"started_at": None}))


def test_each_account_has_its_session_log_group() -> None:
    members = {"111111111111": "/member/sessions"}
    assert expected_log_group("123456789012", "/aws/ssm/sessions", members) == "/aws/ssm/sessions"
    assert expected_log_group("111111111111", "/aws/ssm/sessions", members) == "/member/sessions"
    assert expected_log_group("222222222222", "/aws/ssm/sessions", members) == "/aws/ssm/sessions"
