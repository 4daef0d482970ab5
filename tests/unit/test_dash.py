"""dash: a hand-built Presentation -> the golden MPD (exact), then re-read by mpegdash and ElementTree.

Regenerate the golden file after an intended change with ``VODFLEET_REGEN_GOLDEN=1 pytest tests/unit``.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import pytest
from mpegdash.parser import MPEGDASHParser

from pipelines.dash import render_mpd, timeline, write_mpd, xs_duration
from pipelines.presentation import AudioTrack, Presentation, Segment, SubtitleTrack, VideoTrack

GOLDEN = Path(__file__).parent.parent / "fixtures" / "golden" / "dash" / "manifest.mpd"
NS = {"d": "urn:mpeg:dash:schema:mpd:2011"}


def segs(units: list[int], timescale: int, sizes: list[int], *, start: int = 0,
         ext: str = "m4s") -> tuple[Segment, ...]:
    out, t = [], start
    for i, (d, size) in enumerate(zip(units, sizes, strict=True)):
        out.append(Segment(uri=f"seg_{i + 1:05d}.{ext}", start=t / timescale, duration=d / timescale,
                           size=size, decode_time=t, duration_units=d))
        t += d
    return tuple(out)


def video(track_id: str, width: int, height: int, codecs: str, rate: Fraction, timescale: int,
          units: list[int], sizes: list[int]) -> VideoTrack:
    return VideoTrack(id=track_id, path=f"video/{track_id}", init="init.mp4", codecs=codecs,
                      timescale=timescale, segments=segs(units, timescale, sizes), width=width, height=height,
                      frame_rate=rate)


def audio(track_id: str, name: str, *, default: bool) -> AudioTrack:
    return AudioTrack(id=track_id, path=f"audio/{track_id}", init="init.mp4", codecs="mp4a.40.2",
                      timescale=48000, segments=segs([96256, 96256, 63488], 48000, [33828, 32810, 22758]),
                      language=track_id, name=name, channels=2, sample_rate=48000, default=default)


def subtitle(track_id: str, name: str, *, default: bool = False, forced: bool = False) -> SubtitleTrack:
    """DASH text as WebVTT in ISO-BMFF: fragments on the video's boundaries, timescale 1000."""
    return SubtitleTrack(id=track_id, path=f"subtitles/{track_id}", language=track_id, name=name,
                         vtt="", segments=segs([2000, 2000, 1280], 1000, [120, 80, 40], ext="vtt"),
                         default=default, forced=forced, init="init.mp4",
                         fragments=segs([2000, 2000, 1280], 1000, [250, 90, 16]))


V720 = video("720p", 1280, 720, "avc1.64001f", Fraction(30000, 1001), 30000, [60060, 60060, 30030],
             [500_000, 450_000, 200_000])
V360 = video("360p", 640, 360, "avc1.64001e", Fraction(25), 12800, [25600, 25600, 16384],
             [200_000, 180_000, 100_000])
PRESENTATION = Presentation(
    duration=5.338667, segment_seconds=2, video=(V720, V360),
    audio=(audio("en", "English", default=False), audio("es", "Español & <latino>", default=True)),
    subtitles=(subtitle("en", "English"), subtitle("ko", "한국어", default=True), subtitle("fr", "Français",
                                                                                       forced=True)),
    provenance=(("encoder", "x264 --preset veryfast"), ("ffmpeg", "5.1.6")),
)


def test_write_mpd_matches_golden(tmp_path: Path) -> None:
    assert write_mpd(tmp_path, PRESENTATION) == "manifest.mpd"
    text = (tmp_path / "manifest.mpd").read_text(encoding="utf-8")
    if os.environ.get("VODFLEET_REGEN_GOLDEN") == "1":
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(text, encoding="utf-8", newline="\n")
    assert GOLDEN.is_file(), f"no golden file {GOLDEN}; write it with VODFLEET_REGEN_GOLDEN=1"
    assert text == GOLDEN.read_text(encoding="utf-8"), "manifest.mpd differs from its golden file"


def test_mpd_reparses_with_mpegdash() -> None:
    mpd = MPEGDASHParser.parse(render_mpd(PRESENTATION))
    assert (mpd.type, mpd.profiles) == ("static", "urn:mpeg:dash:profile:isoff-live:2011")
    # minBufferTime: the longest segment (audio, 2.005333 s), to the millisecond.
    assert (mpd.media_presentation_duration, mpd.min_buffer_time) == ("PT5.339S", "PT2.005S")
    (period,) = mpd.periods
    assert period.start == "PT0S"
    kinds = [(a.content_type, a.mime_type, a.lang) for a in period.adaptation_sets]
    assert kinds == [("video", "video/mp4", None), ("audio", "audio/mp4", "en"), ("audio", "audio/mp4", "es"),
                     ("text", "application/mp4", "en"), ("text", "application/mp4", "ko"),
                     ("text", "application/mp4", "fr")]
    video_set = period.adaptation_sets[0]
    assert (video_set.max_width, video_set.max_height, video_set.max_frame_rate, video_set.par) == (
        1280, 720, "30000/1001", "16:9")
    assert video_set.segment_alignment is True or video_set.segment_alignment == "true"
    reps = [(r.id, r.bandwidth, r.codecs, r.width, r.height, r.frame_rate, r.sar)
            for r in video_set.representations]
    assert reps == [("360p", 800_000, "avc1.64001e", 640, 360, "25", "1:1"),
                    ("720p", 1_998_002, "avc1.64001f", 1280, 720, "30000/1001", "1:1")]
    template = video_set.representations[0].segment_templates[0]
    assert (template.timescale, template.initialization, template.media, template.start_number) == (
        12800, "video/360p/init.mp4", "video/360p/seg_$Number%05d$.m4s", 1)
    runs = [(s.t, s.d, s.r) for s in template.segment_timelines[0].Ss]
    assert runs == [(0, 25600, 1), (None, 16384, None)]
    audio_sets = period.adaptation_sets[1:3]
    assert [a.roles[0].value for a in audio_sets] == ["alternate", "main"]  # exactly one main: the default
    rep = audio_sets[0].representations[0]
    assert (rep.id, rep.bandwidth, rep.codecs, rep.audio_sampling_rate) == (
        "audio-en", PRESENTATION.audio[0].peak_bitrate, "mp4a.40.2", "48000")
    channels = rep.audio_channel_configurations[0]
    assert (channels.scheme_id_uri, channels.value) == (
        "urn:mpeg:dash:23003:3:audio_channel_configuration:2011", "2")
    text_sets = period.adaptation_sets[3:]
    assert [[r.value for r in t.roles] for t in text_sets] == [["subtitle"], ["subtitle", "main"],
                                                               ["forced-subtitle"]]
    # DASH-IF IOP text: WebVTT in ISO-BMFF, addressed like the media (init + $Number$ + SegmentTimeline).
    assert [t.codecs for t in text_sets] == ["wvtt", "wvtt", "wvtt"]
    assert [t.representations[0].base_urls for t in text_sets] == [None, None, None]
    template = text_sets[0].representations[0].segment_templates[0]
    assert (template.timescale, template.initialization, template.media) == (
        1000, "subtitles/en/init.mp4", "subtitles/en/seg_$Number%05d$.m4s")
    assert [(s.t, s.d, s.r) for s in template.segment_timelines[0].Ss] == [(0, 2000, 1), (None, 1280, None)]
    assert text_sets[0].representations[0].bandwidth == 1000  # the peak fragment: 250 bytes in 2 s


def test_opt_in_sidecar_text_is_a_base_url() -> None:
    sidecars = tuple(replace(t, vtt="subtitles.vtt", init="", fragments=())
                     for t in PRESENTATION.subtitles)
    mpd = MPEGDASHParser.parse(render_mpd(replace(PRESENTATION, subtitles=sidecars)))
    text_sets = mpd.periods[0].adaptation_sets[3:]
    assert [(t.mime_type, t.codecs) for t in text_sets] == [("text/vtt", None)] * 3
    assert [t.representations[0].base_urls[0].base_url_value for t in text_sets] == [
        "subtitles/en/subtitles.vtt", "subtitles/ko/subtitles.vtt", "subtitles/fr/subtitles.vtt"]
    assert [t.representations[0].segment_templates for t in text_sets] == [None, None, None]


def test_mpd_is_namespaced_xml_with_escaped_labels_and_safe_comments() -> None:
    text = render_mpd(PRESENTATION)
    head = '<?xml version="1.0" encoding="UTF-8"?>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011"'
    assert text.startswith(head)
    root = ET.fromstring(text)
    labels = [e.text for e in root.iterfind("d:Period/d:AdaptationSet/d:Label", NS)]
    assert labels == ["English", "Español & <latino>", "English", "한국어", "Français"]
    assert "<!-- vodfleet-encoder: x264 - -preset veryfast -->" in text  # '--' is illegal inside a comment
    ids = [r.get("id") for r in root.iterfind(".//d:Representation", NS)]
    assert len(ids) == len(set(ids))  # Representation@id is unique in the Period (audio "en" vs text "en")


def test_timeline_folds_runs_and_marks_gaps() -> None:
    units = segs([100, 100, 100, 50], 10, [1, 1, 1, 1], start=1000)
    assert timeline(units) == [(1000, 100, 2), (None, 50, 0)]
    gap = (*units[:2], replace(units[2], decode_time=1250))
    assert timeline(gap) == [(1000, 100, 1), (1250, 100, 0)]
    assert timeline(()) == []


@pytest.mark.parametrize(("seconds", "text"), [
    (5.28, "PT5.28S"), (2.0, "PT2S"), (0.0, "PT0S"), (60.0, "PT1M0S"), (3725.5, "PT1H2M5.5S"),
    (5.3386667, "PT5.339S")])
def test_xs_duration(seconds: float, text: str) -> None:
    assert xs_duration(seconds) == text


def test_mixed_aspect_ratios_drop_par_and_no_default_audio_makes_the_first_main() -> None:
    square = video("sq", 480, 480, "avc1.64001e", Fraction(25), 12800, [25600], [1000])
    p = replace(PRESENTATION, video=(V360, square),
                audio=tuple(replace(a, default=False) for a in PRESENTATION.audio), subtitles=())
    period = MPEGDASHParser.parse(render_mpd(p)).periods[0]
    assert period.adaptation_sets[0].par is None
    assert [a.roles[0].value for a in period.adaptation_sets[1:]] == ["main", "alternate"]
