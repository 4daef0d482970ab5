"""The README's curl walk-through of the API, run as written (bash, curl, jq, dd) against the real API process:
a master and a Korean subtitle uploaded through presigned URLs, the job submitted, followed, published, played."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from apikit import ApiFleet
from fleetkit import IN_CI
from mediagen import make_source

pytestmark = [pytest.mark.fleet, pytest.mark.media]
README = Path(__file__).resolve().parents[2] / "README.md"


def readme_block() -> str:
    text = README.read_text(encoding="utf-8")
    after = text.split("A CMS does the same with curl and jq", 1)[1]
    return re.search(r"```sh\n(.*?)```", after, flags=re.DOTALL)[1]  # type: ignore[index]


def test_the_readme_curl_flow_publishes_a_title(api_fleet: ApiFleet, tmp_path: Path) -> None:
    for tool in ("curl", "jq"):
        if shutil.which(tool) is None:
            (pytest.fail if IN_CI else pytest.skip)(f"{tool} is missing (./scripts/bootstrap --test installs it)")
    make_source(tmp_path / "ep1.mov", width=320, height=180, duration=2)
    (tmp_path / "ep1.ko.srt").write_bytes("1\n00:00:00,100 --> 00:00:01,500\n안녕\n\n".encode("cp949"))
    script = readme_block().replace("API=http://127.0.0.1:8080", f"API={api_fleet.base}", 1)
    env = {**api_fleet.env, "PATH": f"{Path(sys.executable).parent}:{api_fleet.env.get('PATH', '')}"}
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=280, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    job_line, title_line = done.stdout.strip().splitlines()[-2:]
    job = json.loads(job_line)
    title = json.loads(title_line)
    assert job["state"] == "published" and job["published"]["title"] == "team-a/show/ep1", job
    assert title["version"] == "v0001" and title["live"] is True and title["qc_passed"] is True
    assert title["hls"].startswith(api_fleet.s3.endpoint)
    assert title["play"].startswith(api_fleet.base)  # the link the README says to open to watch
    assert "vft_" not in done.stderr  # the token stays in the header variable
