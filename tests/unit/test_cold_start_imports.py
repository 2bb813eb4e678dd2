"""What a new container imports before the first call's work: each in a fresh interpreter, since this
test process has imported everything already."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = sorted(p.parent.name for p in (ROOT / "functions").glob("*/app.py"))


def fresh(code: str) -> str:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "common"), str(ROOT)])}
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return proc.stdout.strip()


@pytest.mark.parametrize("function", FUNCTIONS)
def test_importing_a_function_loads_neither_the_sdk_pydantic_nor_the_domain(function: str) -> None:
    loaded = fresh(
        f"import sys, functions.{function}.app; "
        "print(sorted(m for m in ('boto3', 'pydantic', 'yaml', 're2', 'slack_sdk', 'ssm_warden.config') "
        "if m in sys.modules))"
    )
    assert loaded == "[]"


def test_the_powertools_objects_of_a_first_call_load_no_pydantic() -> None:
    """So that Powertools' batch utility (the monitor's Kinesis path), imported next, builds none of its
    pydantic models."""
    loaded = fresh(
        "import sys, functions.action_executor.app; from ssm_warden.observability import logger, metrics; "
        "logger(); metrics(); print('pydantic' in sys.modules)"
    )
    assert loaded == "False"
