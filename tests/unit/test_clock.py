"""The simulated clock ``utc_now`` honours while one is set (the local demo's minutes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ssm_warden.clock import clock_set_to, set_clock, utc_now

MORNING = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def test_utc_now_follows_a_set_clock_and_returns_to_the_wall_clock_after_the_block() -> None:
    # Given a simulated clock that a test moves by hand
    now = [MORNING]
    # When it is set for a block and moved forward
    with clock_set_to(lambda: now[0]):
        first = utc_now()
        now[0] += timedelta(minutes=31)
        later = utc_now()
    # Then utc_now returned the simulated times, and the wall clock after the block
    assert (first, later) == (MORNING, MORNING + timedelta(minutes=31))
    assert abs(utc_now() - datetime.now(UTC)) < timedelta(minutes=1)


def test_blocks_nest_and_set_clock_none_restores_the_wall_clock() -> None:
    with clock_set_to(lambda: MORNING):
        with clock_set_to(lambda: MORNING + timedelta(hours=1)):
            assert utc_now() == MORNING + timedelta(hours=1)
        assert utc_now() == MORNING
    set_clock(lambda: MORNING)
    assert utc_now() == MORNING
    set_clock(None)
    assert utc_now().year >= 2026 and utc_now() != MORNING
