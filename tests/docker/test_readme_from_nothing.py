"""The README's first command on a machine where nothing was installed: a container from the pristine Debian base
(docker/build-base.sh: debootstrap minbase, so no Python, no ffmpeg, no venv) gets a clean copy of the repository
(the tracked files of the commit under test: no .venv, node_modules or out/ from this host) and runs
`./scripts/demo` in it as root, as a new user would. It must end with the sample published where the README says,
and the published folder is read back here with independent parsers (m3u8, mpegdash, ffprobe).

The container reaches the package registries through the host's network (`--network host`). On a network that
intercepts TLS, the host's CA bundle is handed to pip the way docker/build.sh hands it to the image build
(VODFLEET_EXTRA_CA, default the host's /etc/ssl/certs/ca-certificates.crt, `none` to give nothing). The run's wall
time is the test's duration (`--durations` in .ci/run lists it) and a `readme_wall_seconds` property.
"""

from __future__ import annotations

import io
import json
import os
import re
import secrets
import shutil
import subprocess
import tarfile
import time
from collections.abc import Callable
from pathlib import Path

import m3u8
import pytest
from docker_support import REPO, unusable
from mediagen import ffprobe_json
from mpegdash.parser import MPEGDASHParser

pytestmark = [pytest.mark.docker, pytest.mark.slow]

BASE = os.environ.get("VODFLEET_BASE_TAG", "vodfleet/debian-base:bookworm")
DEMO_TIMEOUT = 1800  # seconds: apt (ffmpeg and its libraries), pip, then the sample's transcode, on 2 shared cores
HOME = "/root/vodfleet"
# README: "It publishes `out/state/storage/outputs/bigbuckbunny/v0001/`", with these five subtitle languages
PUBLISHED = f"{HOME}/out/state/storage/outputs/bigbuckbunny/v0001"
LANGUAGES = {"en", "es", "ko", "zh-Hant", "ar"}
CA_IN_CONTAINER = "/run/vodfleet-network-ca.pem"


def docker(*argv: str, timeout: float = 120, data: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["docker", *argv], input=data, capture_output=True, timeout=timeout, check=False)


def log_tail(name: str, lines: int = 60) -> str:
    done = docker("logs", "--tail", str(lines), name)
    return (done.stdout + done.stderr).decode(errors="replace")


@pytest.fixture(scope="module")
def pristine_base(docker_engine: str) -> str:
    present = docker("image", "inspect", BASE).returncode == 0
    if not present and shutil.which("debootstrap") is None:
        unusable(f"no {BASE} image and no debootstrap to build it (apt-get install -y debootstrap)")
    done = subprocess.run([str(REPO / "docker" / "build-base.sh")], capture_output=True, text=True, timeout=1800,
                          check=False, env={**os.environ, "VODFLEET_BASE_TAG": BASE})
    if done.returncode != 0:
        pytest.fail(f"docker/build-base.sh failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return BASE


def clean_clone() -> bytes:
    """The tracked files of the commit under test as a tar under `vodfleet/` (uncommitted edits to tracked files
    included, via `git stash create`, so a developer tests what they see; untracked and ignored files never)."""
    if shutil.which("git") is None or not (REPO / ".git").exists():
        unusable(f"{REPO} is not a git checkout: the pristine run copies the tracked files of the commit under test")
    stash = subprocess.run(["git", "-C", str(REPO), "stash", "create"], capture_output=True, text=True, timeout=60,
                           check=True).stdout.strip()
    return subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", "--prefix=vodfleet/", stash or "HEAD"],
                          capture_output=True, timeout=120, check=True).stdout


def network_options() -> list[str]:
    extra_ca = os.environ.get("VODFLEET_EXTRA_CA", "/etc/ssl/certs/ca-certificates.crt")
    options = ["--network", "host"]
    if extra_ca != "none" and Path(extra_ca).is_file():
        options += ["-v", f"{extra_ca}:{CA_IN_CONTAINER}:ro", "-e", f"PIP_CERT={CA_IN_CONTAINER}"]
    if os.environ.get("PIP_INDEX_URL"):
        options += ["-e", f"PIP_INDEX_URL={os.environ['PIP_INDEX_URL']}"]
    return options


@pytest.mark.timeout(DEMO_TIMEOUT + 600)
def test_the_readme_demo_publishes_the_sample_on_a_pristine_debian(
        pristine_base: str, container_names: list[str], tmp_path: Path,
        record_property: Callable[[str, object], None]) -> None:
    name = f"vodfleet-pristine-{secrets.token_hex(4)}"
    container_names.append(name)
    created = docker("create", "--name", name, *network_options(), "-w", HOME, pristine_base, "./scripts/demo")
    assert created.returncode == 0, created.stderr.decode()
    copied = docker("cp", "-", f"{name}:/root", data=clean_clone(), timeout=300)
    assert copied.returncode == 0, copied.stderr.decode()

    started = time.monotonic()
    try:
        run = docker("start", "--attach", name, timeout=DEMO_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"./scripts/demo did not finish in {DEMO_TIMEOUT} s on a pristine Debian; its log ends:\n"
                    f"{log_tail(name)}")
    wall = time.monotonic() - started
    record_property("readme_wall_seconds", round(wall, 1))
    print(f"pristine ./scripts/demo: {wall:.0f} s")  # shown with -rA / -s
    output = (run.stdout + run.stderr).decode(errors="replace")
    assert run.returncode == 0, f"./scripts/demo exited {run.returncode} on a pristine Debian:\n{output[-6000:]}"
    assert "Traceback" not in output, output[-6000:]
    # a new user's screen: no logged warning (kombu's "No hostname was supplied"), no deprecation from the install
    noise = [line for line in output.splitlines() if line.startswith("WARNING") or "deprecated" in line.lower()]
    assert not noise, noise
    # what a fresh Debian lacks is installed by scripts/bootstrap (not by this test), each package named once
    [installing] = re.findall(r"^bootstrap: installing (.+) \(apt\)$", output, flags=re.MULTILINE)
    packages = installing.split()
    assert {"ffmpeg", "python3", "python3-venv"} <= set(packages) and len(packages) == len(set(packages)), installing
    published = re.findall(r"^published: file://(\S+)$", output, flags=re.MULTILINE)
    assert published == [PUBLISHED], output[-3000:]

    # the published folder, read back with parsers of our own choosing
    pulled = docker("cp", f"{name}:{PUBLISHED}", "-", timeout=300)
    assert pulled.returncode == 0, pulled.stderr.decode()
    with tarfile.open(fileobj=io.BytesIO(pulled.stdout)) as archive:
        archive.extractall(tmp_path, filter="data")
    out = tmp_path / "v0001"

    report = json.loads((out / "report.json").read_text())
    assert report["qc"]["passed"] is True
    failed = [c for c in report["qc"]["checks"] if not c["passed"]]
    assert not failed, failed

    master = m3u8.load(str(out / "master.m3u8"))
    assert master.is_variant and master.playlists
    for variant in master.playlists:
        assert (out / variant.uri).is_file(), variant.uri
    subtitles = {m.language for m in master.media if m.type == "SUBTITLES"}
    assert subtitles == LANGUAGES

    mpd = MPEGDASHParser.parse(str(out / "manifest.mpd"))
    sets = [a for period in mpd.periods for a in period.adaptation_sets]
    assert {a.content_type for a in sets} == {"video", "audio", "text", "image"}  # image: the storyboard tiles
    [tiles] = [a for a in sets if a.content_type == "image"]
    assert (out / "thumbnails" / "sprite_0001.jpg").is_file(), tiles.mime_type
    assert {a.lang for a in sets if a.content_type == "text"} == LANGUAGES

    # the top video rung decodes as the report says
    top = max(report["renditions"]["video"], key=lambda v: v["height"])
    rung = out / "video" / top["id"]
    joined = tmp_path / "top.mp4"
    joined.write_bytes(b"".join(p.read_bytes() for p in [rung / "init.mp4", *sorted(rung.glob("seg_*.m4s"))]))
    streams = [s for s in ffprobe_json(joined)["streams"] if isinstance(s, dict)]  # type: ignore[union-attr]
    assert [(s["codec_name"], s["height"]) for s in streams] == [("h264", top["height"])]
