"""The leak tests can catch a leak, and no argv vodfleet builds lets one through.

1. Not vacuous: the corpus's playlists, fed to plain ffmpeg without vodfleet's protections, do reach
   the loopback canary, open the local FIFO, and open /etc/passwd; a naive XML parser with external
   entities on fetches the canary and reads /etc/passwd from the TTML files.
2. Every argv builder that reads a master (probe, both decode checks, encode, quality, VMAF: run by the other
   ffmpeg build, the per-title sample), run for real against those playlists, even with the playlist demuxer forced
   on it, reaches nothing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import subprocess
import time
import xml.sax
import xml.sax.handler
import xml.sax.xmlreader
from pathlib import Path

import mediagen
import pytest
from canary import Canary
from corpus import LEAK_MARK, Case

from pipelines.ffmpeg import encode_argv, output_folders, quality_argv
from pipelines.ladder import load_ladder
from pipelines.options import PlanOptions
from pipelines.pertitle.probe import sample_argv
from pipelines.plan import plan_encode
from pipelines.probe import decode_head_argv, decode_tail_argv, probe, probe_argv
from pipelines.tools import Tools
from pipelines.vmaf import display_size, vmaf_argv
from pipelines.vmaf_tool import vmaf_tool

TOOLS = Tools.resolve()
PLAYLISTS = ("hls_in_avi_to_canary", "hls_named_mp4_to_passwd", "hls_in_mkv_to_local_fifo",
             "dash_named_mp4_to_canary", "ffconcat_named_mov_to_passwd", "file_named_concat_protocol")


def plain(*args: str) -> str:
    """ffmpeg without vodfleet's whitelists; its stderr (debug log)."""
    done = subprocess.run([TOOLS.ffmpeg, "-hide_banner", "-nostdin", "-v", "debug", *args, "-f", "null", "-"],
                          capture_output=True, text=True, errors="replace", timeout=30, check=False)
    return done.stderr


def _hls_option(name: str) -> list[str]:
    """Debian patched ffmpeg 5.1 adds allowed_segment_extensions; older builds lack it."""
    listed = subprocess.run([TOOLS.ffmpeg, "-hide_banner", "-h", "demuxer=hls"], capture_output=True, text=True,
                            check=False).stdout
    return [f"-{name}", "ALL"] if f"-{name} " in listed else []


def settle(canary: Canary, before: int) -> int:
    time.sleep(0.2)
    return canary.hits - before


def test_plain_ffmpeg_reaches_the_http_canary(corpus: dict[str, Case], canary: Canary) -> None:
    for name in ("hls_in_avi_to_canary", "dash_named_mp4_to_canary", "file_named_concat_protocol"):
        before = canary.hits
        plain("-protocol_whitelist", "file,http,tcp", "-i", f"file:{corpus[name].path}")
        assert settle(canary, before) > 0, f"{name}: plain ffmpeg did not reach the canary"


def test_plain_ffmpeg_with_default_options_opens_the_local_fifo(corpus: dict[str, Case], canary: Canary) -> None:
    before = canary.fifo_opens
    plain("-i", f"file:{corpus['hls_in_mkv_to_local_fifo'].path}")
    time.sleep(0.2)
    assert canary.fifo_opens > before


def test_plain_ffmpeg_opens_etc_passwd(corpus: dict[str, Case]) -> None:
    log = plain(*_hls_option("allowed_extensions"), *_hls_option("allowed_segment_extensions"),
                "-i", f"file:{corpus['hls_named_mp4_to_passwd'].path}")
    assert "Opening 'file:///etc/passwd' for reading" in log
    log = plain("-safe", "0", "-i", f"file:{corpus['ffconcat_named_mov_to_passwd'].path}")
    assert "Opening 'file:/etc/passwd' for reading" in log or "'/etc/passwd'" in log


class _Text(xml.sax.handler.ContentHandler):
    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []

    def characters(self, content: str) -> None:
        self.text.append(content)


def _naive_parse(path: str) -> str:
    parser = xml.sax.make_parser()
    parser.setFeature(xml.sax.handler.feature_external_ges, True)
    handler = _Text()
    parser.setContentHandler(handler)
    with contextlib.suppress(xml.sax.SAXException, OSError), Path(path).open("rb") as handle:
        source = xml.sax.xmlreader.InputSource(path)
        source.setByteStream(handle)
        parser.parse(source)
    return "".join(handler.text)


def test_a_naive_xml_parser_leaks_what_the_ttml_cases_aim_at(corpus: dict[str, Case], canary: Canary) -> None:
    assert LEAK_MARK in _naive_parse(corpus["ttml_external_entity_passwd"].path)
    before = canary.hits
    _naive_parse(corpus["ttml_external_entity_canary"].path)
    assert settle(canary, before) > 0


@pytest.fixture(scope="module")
def plan_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return mediagen.make_source(tmp_path_factory.mktemp("plan") / "real.mp4", duration=1.0, audio=("eng",))


def _forced_argvs(playlist: Path, real: Path, work: Path) -> list[list[str]]:
    """Every master-reading argv, pointed at `playlist`, with the playlist's own demuxer forced."""
    info = probe(real, tools=TOOLS)
    argvs = [probe_argv(playlist, TOOLS), decode_head_argv(playlist, TOOLS, 0),
             decode_tail_argv(playlist, TOOLS, 0, 0.0)]
    for demuxer in ("hls", "dash", "concat"):
        hostile = dataclasses.replace(info, format_name=demuxer)
        plan = plan_encode(hostile, load_ladder("compact"), PlanOptions(profile="draft"))
        for folder in output_folders(plan, work / demuxer):
            folder.mkdir(parents=True, exist_ok=True)
        argvs += [
            decode_head_argv(playlist, TOOLS, 0, demuxer=demuxer),
            encode_argv(plan, ffmpeg=TOOLS.ffmpeg, source=playlist, out=work / demuxer, scratch=work / demuxer),
            quality_argv(plan, ffmpeg=TOOLS.ffmpeg, source=playlist, stats=work,
                         renditions={rung.id: real for rung in plan.video}),
            vmaf_argv(plan, ffmpeg=vmaf_tool().ffmpeg, source=playlist, logs=work,
                      renditions={rung.id: real for rung in plan.video}, display=display_size(plan)),
            sample_argv(plan, ffmpeg=TOOLS.ffmpeg, source=playlist, windows=((0.0, 1.0),), display=display_size(plan),
                        out=work / demuxer / "sample.mkv"),
        ]
    return argvs


@pytest.mark.parametrize("name", PLAYLISTS)
def test_no_vodfleet_argv_reaches_anything(name: str, corpus: dict[str, Case], canary: Canary,
                                           plan_source: Path, tmp_path: Path) -> None:
    before = canary.hits
    for argv in _forced_argvs(Path(corpus[name].path), plan_source, tmp_path):
        done = subprocess.run(argv, capture_output=True, text=True, errors="replace", timeout=30, check=False)
        assert done.returncode != 0, f"{name}: {argv[:3]} accepted a playlist"
        assert LEAK_MARK not in done.stdout + done.stderr
    assert settle(canary, before) == 0, f"{name}: {canary.server.paths} fifo={canary.fifo_opens}"
