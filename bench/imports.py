"""Cold starts of every Lambda function, beside ``import boto3``.

Run ``python -m bench imports``. Prints JSON lines.

``import_handler`` (for information): ``import functions.<name>.app`` in a fresh interpreter, the
median of ``-X importtime``'s cumulative figure. It is tiny on purpose (handlers import their work on
the first call), so it is not the cold start.

``first_call`` (the cold-start figure), per function in ``template.yaml``: a new interpreter runs the
function the way a new container does (``bench._first_call``): ``import boto3``, the module import,
the first invocation, then warm invocations of the same kind of event, against the local stack of
``make demo`` (moto server, local Slack sink; events made by ``bench._coldstart``). Figures, medians
of ``FIRST_CALL_RUNS`` new interpreters:

- ``cold_start_ms``: everything the container pays once = boto3 import + module import + first
  invocation - a warm invocation (its imports, Powertools objects, clients with their service
  models, rules compiled, settings/policy/secret read once, and the AWS calls a warm call makes);
- ``sdk_ms``: the AWS SDK's part of it: ``import boto3``, creating the boto3 session and the
  clients (botocore loading service models) and botocore's first use of each operation (the first
  invocation's extra time in ``_make_api_call`` over a warm one), which every function pays whatever
  ssm-warden does;
- bytecode is compiled first, as ``make build`` does for the layer (``precompile_bytecode``);
- ``first_call_import_ms`` = ``cold_start_ms`` - ``sdk_ms``: what ssm-warden adds. Its ratio to
  ``import boto3`` timed in the same new interpreters (``sdk_import_ms``) is the target: <= 1.2.
  ``ratio_to_boto3_cpu`` is the same in CPU time, the figure to read on a loaded machine.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RUNS = 7
TARGET_RATIO = 1.5
FIRST_CALL_RUNS = 5
FIRST_CALL_TARGET_RATIO = 1.2
FIGURES = (
    "cold_start_ms",
    "first_call_import_ms",
    "cold_start_cpu_ms",
    "first_call_import_cpu_ms",
    "sdk_import_cpu_ms",
    "sdk_cpu_ms",
    "client_cpu_ms",
    "api_first_use_cpu_ms",
    "api_first_use_ms",
    "sdk_ms",
    "sdk_import_ms",
    "client_ms",
    "module_import_ms",
    "first_call_ms",
    "warm_call_ms",
)


def handler_modules() -> list[str]:
    return sorted(
        f"functions.{p.parent.name}.app" for p in (ROOT / "functions").glob("*/app.py") if p.parent.is_dir()
    )


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    paths = [str(ROOT / "layers" / "common"), str(ROOT)]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def import_time(module: str) -> tuple[float, float]:
    """(cumulative import time in ms as ``-X importtime`` reports it, wall time of the process in ms)."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        cwd=ROOT,
        env=_environment(),
        capture_output=True,
        text=True,
        check=True,
    )
    wall = (time.perf_counter() - start) * 1000
    cumulative = 0.0
    for line in proc.stderr.splitlines():
        parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[2] == module:
            cumulative = int(parts[1]) / 1000
    return cumulative, wall


def measure(module: str) -> dict[str, float]:
    samples = [import_time(module) for _ in range(RUNS)]
    return {
        "import_ms_median": round(statistics.median(s[0] for s in samples), 1),
        "process_ms_median": round(statistics.median(s[1] for s in samples), 1),
    }


def wall_import(module: str) -> float:
    """Wall time of ``import <module>`` in a fresh interpreter (no ``-X importtime`` overhead), in ms."""
    code = f"import time; t = time.perf_counter(); import {module}; print((time.perf_counter() - t) * 1000)"
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=_environment(), capture_output=True, text=True, check=True
    )
    return float(proc.stdout.strip())


def first_calls(boto3_ms: float) -> Iterator[dict[str, Any]]:
    """Each function's cold start, measured as a new container pays it (``bench._first_call``)."""
    from bench._coldstart import FUNCTIONS, bench_stack, first_call

    precompile_bytecode()
    for function in sorted(FUNCTIONS):
        with bench_stack() as stack:  # a new local stack each: no function measures another's leftovers
            runs = [first_call(function, stack.events_for(function)) for _ in range(FIRST_CALL_RUNS)]
            figures = {key: round(statistics.median(r[key] for r in runs), 1) for key in FIGURES}
            # Over ``import boto3`` timed in the same new interpreters: the same machine state.
            ratio = figures["first_call_import_ms"] / figures["sdk_import_ms"]
            yield {
                "figure": "first_call",
                "function": function,
                **figures,
                "ratio_to_boto3": round(ratio, 3),
                "ratio_to_boto3_cpu": round(
                    figures["first_call_import_cpu_ms"] / figures["sdk_import_cpu_ms"], 3
                ),
                "cold_start_ratio_to_boto3": round(figures["cold_start_ms"] / figures["sdk_import_ms"], 3),
                "boto3_import_ms_here": boto3_ms,
                "target_ratio": FIRST_CALL_TARGET_RATIO,
                "within_target": ratio <= FIRST_CALL_TARGET_RATIO,
                "clients": runs[0]["clients"],
                "loads": runs[0]["notable_modules_loaded"],
                "result": _brief(runs[0]["results"][0]),
                "runs": FIRST_CALL_RUNS,
            }


def precompile_bytecode() -> None:
    """Bytecode for ssm_warden and the functions, as ``make build`` ships it in the layer (the
    dependencies in .venv have theirs from pip): without it every new interpreter compiles every
    module from source, which a deployed function built by ``make build`` does not."""
    import compileall
    import py_compile

    for directory in (ROOT / "layers" / "common" / "ssm_warden", ROOT / "functions"):
        compileall.compile_dir(
            directory, quiet=1, invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH, workers=0
        )


def _brief(result: Any) -> Any:
    """What the first invocation answered (to see that it did the real work, not an early refusal)."""
    if isinstance(result, dict):
        return {
            k: v
            for k, v in result.items()
            if k
            in (
                "status",
                "statusCode",
                "queued",
                "refused",
                "commands",
                "actions",
                "batchItemFailures",
                "active",
                "complete",
            )
        }
    return result


def main() -> None:
    baseline = measure("boto3")
    empty = measure("sys")  # the interpreter alone, for reading the process times
    print(json.dumps({"figure": "import_baseline", "module": "boto3", **baseline, "runs": RUNS}))
    print(json.dumps({"figure": "import_interpreter", "module": "sys", **empty, "runs": RUNS}))
    boto3_ms = round(statistics.median(wall_import("boto3") for _ in range(RUNS)), 1)
    print(
        json.dumps(
            {"figure": "import_baseline_wall", "module": "boto3", "import_ms_median": boto3_ms, "runs": RUNS}
        )
    )
    for module in handler_modules():
        figures = measure(module)
        ratio = figures["import_ms_median"] / baseline["import_ms_median"]
        print(
            json.dumps(
                {
                    "figure": "import_handler",
                    "module": module,
                    **figures,
                    "ratio_to_boto3": round(ratio, 3),
                    "target_ratio": TARGET_RATIO,
                    "within_target": ratio <= TARGET_RATIO,
                    "runs": RUNS,
                }
            )
        )
    sys.stdout.flush()
    for line in first_calls(boto3_ms):
        print(json.dumps(line))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
