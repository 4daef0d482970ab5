"""Every hostile file is refused (or safely handled) with its documented code, in under 5 s and
300 MB RSS, and nothing reaches the canaries: no HTTP connection to loopback, no open of the local
FIFO, no ``root:x:0:0`` in any result, log or output.

Each case runs in its own process (tests/hostile/reject.py): wall time is measured around it (Python
start-up and imports included) and peak RSS is ``ru_maxrss`` from ``os.wait4`` on a freshly forked
worker (the largest of the worker and the ffprobe/ffmpeg it waited for). These are resource bounds,
not speed benchmarks.

Set HOSTILE_TABLE=path to append one ``name code seconds rss_mb`` row per case to that file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from canary import Canary
from corpus import LEAK_MARK, Case

from pipelines.subtitles import load_sidecar

REJECT = Path(__file__).with_name("reject.py")
MAX_SECONDS = 5.0
MAX_RSS_MB = 300.0
DOCS = Path(__file__).resolve().parents[2] / "docs" / "errors.md"
NAMES = (
    "hls_in_avi_to_canary", "hls_named_mp4_to_passwd", "hls_in_mkv_to_local_fifo", "dash_named_mp4_to_canary",
    "ffconcat_named_mov_to_passwd", "file_named_concat_protocol", "concat_protocol_argument",
    "subfile_protocol_argument", "http_url_argument", "image2_pattern_png", "png_named_mp4", "text_file_tty",
    "claims_65535x65535", "claims_16000x16000", "claims_100_hours", "thousand_streams", "zero_length",
    "truncated_mp4", "random_bytes",
    "ttml_billion_laughs", "ttml_external_entity_passwd", "ttml_external_entity_canary", "ttml_nested_5000_deep",
    "ttml_element_flood", "ttml_style_reference_fanout", "ttml_zero_frame_rate", "srt_million_cues",
    "srt_200k_cues_under_the_size_cap", "srt_cue_at_99_59_59", "srt_10mb_line", "ass_override_tag_flood",
    "ass_absurd_timestamp", "language_path_traversal",
)


def run_case(case: Case, work: Path) -> tuple[dict[str, object], str, float, float]:
    """(result JSON, stderr, seconds, peak RSS MB) of one case in a child process."""
    result, stderr = work / "result.json", work / "stderr.txt"
    extra = str(work / "out") if case.kind == "master" else case.language
    started = time.monotonic()
    with stderr.open("wb") as err:
        proc = subprocess.run([sys.executable, str(REJECT), case.kind, case.path, extra, str(result)],
                              stdin=subprocess.DEVNULL, stdout=err, stderr=err, check=False, timeout=60)
    seconds = time.monotonic() - started
    log = stderr.read_text(errors="replace")
    assert proc.returncode == 0, log[-2000:]
    outcome = json.loads(result.read_text())
    return outcome, log, seconds, float(outcome.pop("rss_mb"))


def test_the_corpus_is_the_documented_table(corpus: dict[str, Case]) -> None:
    assert sorted(corpus) == sorted(NAMES)
    documented = DOCS.read_text(encoding="utf-8")
    for case in corpus.values():
        assert case.code is None or f"`{case.code}`" in documented, case.code


@pytest.mark.parametrize("name", NAMES)
def test_refused_quickly_within_bounds_and_without_leaks(name: str, corpus: dict[str, Case], canary: Canary,
                                                         tmp_path: Path) -> None:
    case = corpus[name]
    before = canary.hits
    result, stderr, seconds, rss = run_case(case, tmp_path)
    if table := os.environ.get("HOSTILE_TABLE"):
        with Path(table).open("a", encoding="utf-8") as out:
            out.write(f"{name} {result.get('code')} {seconds:.2f} {rss:.0f}\n")
    assert result.get("code") == case.code, result
    assert seconds < MAX_SECONDS, f"{name} took {seconds:.2f} s"
    assert rss < MAX_RSS_MB, f"{name} peaked at {rss:.0f} MB RSS"
    time.sleep(0.1)  # a connection in flight would be counted by now
    assert canary.hits == before, f"{name} reached a canary: {canary.server.paths} fifo={canary.fifo_opens}"
    assert LEAK_MARK not in json.dumps(result) + stderr
    if case.code is not None:
        assert result["retryable"] is False  # a rejection is permanent: never retried
        assert result["hint"], "every rejection says what to do"
    if case.kind == "master":
        assert not (tmp_path / "out").exists()  # nothing published, nothing half-written
        assert not list(tmp_path.glob(".vodfleet-staging-*"))


def test_handled_cases_keep_their_text(corpus: dict[str, Case]) -> None:
    """The two accepted files are parsed, not dropped: the flood's tags collapse to plain text."""
    ass = load_sidecar(Path(corpus["ass_override_tag_flood"].path), "en", duration=60.0)
    assert ass.cues
    assert all(cue.text in {"x", "<i><b><u>x</u></b></i>", "<b><u>x</u></b>"} or "x" in cue.text for cue in ass.cues)
    ttml = load_sidecar(Path(corpus["ttml_style_reference_fanout"].path), "en", duration=60.0)
    assert [cue.text for cue in ttml.cues] == ["x"]
