"""`vodfleet submit` with a bad --output-prefix: exit 2, the option named and what to do, nothing uploaded or
queued (it was exit 1 and a raw pydantic report)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize("prefix", ["../escape", "outputs//ep1", "my show/ep1", "outputs/-rf", "out\\ep1"])
def test_a_bad_output_prefix_is_a_usage_error(prefix: str, tmp_path: Path) -> None:
    master = tmp_path / "ep1.mp4"
    master.write_bytes(b"\0" * 4096)
    env = {**os.environ, "VODFLEET_STATE_DIR": str(tmp_path / "state")}
    done = subprocess.run([sys.executable, "-m", "workers.cli", "submit", str(master), "--output-prefix", prefix,
                           "--json"], capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 2, done.stderr
    error = json.loads(done.stdout)["error"]
    assert error["code"] == "option_invalid"
    assert error["message"].startswith(f"--output-prefix {prefix!r}: ")
    assert "--output-prefix outputs/" in error["hint"]
    assert "Traceback" not in done.stderr and "pydantic" not in done.stderr
    assert not (tmp_path / "state" / "storage").exists()  # nothing uploaded
    assert not (tmp_path / "state" / "jobs.sqlite").exists()  # nothing queued
