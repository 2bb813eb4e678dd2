"""``make demo``: a scripted morning of Session Manager sessions through ssm-warden's real handlers.

No AWS account: the moto server (with the SSM-session extension) plays AWS and the local Slack sink
plays Slack. Tables and queues are created from template.yaml and events are routed by its rules
(``harness``); the morning is data (``scenarios``), carried out step by step (``play``) and checked
scenario by scenario (``report``). Exit status 1 when any scenario did not turn out as expected.

    python -m ssm_warden_local.demo [--html .demo/slack.html] [--log .demo/functions.log]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ssm_warden_local.demo.harness import ROOT

if TYPE_CHECKING:
    from ssm_warden_local.demo.report import ScenarioResult

DEMO_DIR = ROOT / ".demo"


@dataclass
class DemoResult:
    results: list[ScenarioResult]
    html: Path
    seconds: float

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)


def run_demo(*, html: Path, log: Path, out: TextIO) -> DemoResult:
    """Start the local stack, play the morning, check every scenario, write the Slack page."""
    from ssm_warden.clock import clock_set_to
    from ssm_warden_local.demo import beyond_scenarios as beyond
    from ssm_warden_local.demo.harness import Pipeline, SimClock, local_stack, morning_start
    from ssm_warden_local.demo.play import World, play
    from ssm_warden_local.demo.report import Timeline, check, print_results
    from ssm_warden_local.demo.scenarios import END, HOSTS, MORNING, SCENARIOS
    from ssm_warden_local.demo.windows_scenarios import with_windows

    hosts, morning, scenarios, left_out = with_windows(HOSTS, MORNING, SCENARIOS)

    began = time.monotonic()
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    log.parent.mkdir(parents=True, exist_ok=True)
    html.parent.mkdir(parents=True, exist_ok=True)
    with (
        log.open("w") as function_log,
        local_stack(function_log=function_log, **beyond.ENVIRONMENT) as stack,
    ):
        out.write(
            f"Local stack: moto server {stack.aws.endpoint_url} (SSM sessions), Slack sink {stack.sink.url}\n"
            f"Tables and queues from template.yaml: {', '.join(stack.resources.tables)}, "
            f"{', '.join(stack.resources.queues)}; session log group {stack.log_group}\n"
            f"Policy: the bundled default (prod strict, dev relaxed). Function logs: {log}\n\n"
            "The morning (simulated time; the sweeper runs every minute):\n"
        )
        if left_out:
            out.write(f"({left_out})\n")
        clock = SimClock(morning_start())
        timeline = Timeline(out)
        pipeline = Pipeline(stack, clock, observe=timeline, function_output=function_log)
        world = World(pipeline)
        with clock_set_to(clock):
            world.create_hosts({**hosts, **beyond.HOSTS})
            play(world, sorted([*morning, *beyond.MORNING], key=lambda step: step.seconds), END)
            results = [check(scenario, world, stack) for scenario in scenarios]
            results += [beyond.check_beyond(scenario, world, stack) for scenario in beyond.SCENARIOS]
        print_results(results, out)
        stack.sink.render_html(html, title="ssm-warden demo: the morning in Slack")
        from ssm_warden_local.demo.day2 import show_day2

        out.write("\nThe day-2 commands, on the morning just played:\n")
        with clock_set_to(clock):
            replay = show_day2(stack, out, html.with_name("replay.html"))
        if replay:
            out.write(f"\nReplay of the session with the most findings, as a timeline: {replay}\n")
    seconds = time.monotonic() - began
    out.write(f"Slack, as it would look: {html}\nPlayed in {seconds:.1f} s.\n")
    return DemoResult(results, html, seconds)


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ssm_warden_local.demo", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--html", type=Path, default=DEMO_DIR / "slack.html", help="the Slack page to write")
    parser.add_argument("--log", type=Path, default=DEMO_DIR / "functions.log", help="the functions' logs")
    args = parser.parse_args(argv)
    result = run_demo(html=args.html, log=args.log, out=out or sys.stdout)
    return 0 if result.ok else 1
