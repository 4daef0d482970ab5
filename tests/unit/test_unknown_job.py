"""`vodfleet status` and `cancel` of a job id the store does not know: job_not_found (exit 6, docs/errors.md) with
what to do, not a bare line and the usage exit code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from workers.exitcodes import exit_for


@pytest.mark.parametrize("command", [["status", "job-nope"], ["status", "job-nope", "--json"], ["cancel", "job-nope"]])
def test_an_unknown_job_is_job_not_found_with_what_to_do(tmp_path: Path, command: list[str]) -> None:
    env = {**os.environ, "VODFLEET_STATE_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "workers.cli", *command], env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == exit_for("job_not_found") == 6, done.stderr
    assert "error [job_not_found]: no job job-nope in the job store" in done.stderr
    assert "what to do: list jobs with `vodfleet jobs`" in done.stderr
    if "--json" in command:
        assert json.loads(done.stdout)["error"]["code"] == "job_not_found"
