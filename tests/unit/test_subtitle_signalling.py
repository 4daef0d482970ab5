"""Forced and SDH subtitle renditions: argument syntax, track ids and names, DEFAULT choice, and how both
manifests say it (HLS re-read with the m3u8 package, the MPD with mpegdash)."""

from __future__ import annotations

import json
from fractions import Fraction

import m3u8
import pytest
from mpegdash.parser import MPEGDASHParser

from pipelines.dash import render_mpd
from pipelines.hls import SDH_CHARACTERISTICS, render_master
from pipelines.packaging import subtitle_default, subtitle_names
from pipelines.presentation import Presentation, Segment, SubtitleTrack, VideoTrack
from pipelines.subtitles import SubtitleDocument
from pipelines.subtitles.flags import FlagError, parse_subtitle_argument
from pipelines.transcode import unique_id
from workers.cli.commands.transcode import sidecar
from workers.jobs.spec import JobSpec, SubtitleRef


@pytest.mark.parametrize(("text", "expected"), [
    ("en=a.srt", ("en", frozenset(), "a.srt")),
    ("en:forced=a.srt", ("en", frozenset({"forced"}), "a.srt")),
    ("en:sdh=dir/a=b.srt", ("en", frozenset({"sdh"}), "dir/a=b.srt")),
    ("pt-BR:forced,sdh=x.vtt", ("pt-BR", frozenset({"forced", "sdh"}), "x.vtt")),
    ("en=film.en.forced.srt", ("en", frozenset({"forced"}), "film.en.forced.srt")),
    ("en=/media/forced/film.en.SDH.srt", ("en", frozenset({"sdh"}), "/media/forced/film.en.SDH.srt")),
    ("en=forced.srt", ("en", frozenset(), "forced.srt")),  # the title word is not a flag
])
def test_subtitle_argument_syntax(text: str, expected: tuple[str, frozenset[str], str]) -> None:
    assert parse_subtitle_argument(text) == expected


@pytest.mark.parametrize("text", ["en", "=a.srt", "en:", "en:narrative=a.srt", "en:forced="])
def test_bad_subtitle_arguments_say_what_to_write(text: str) -> None:
    with pytest.raises(FlagError, match=r"LANG=PATH|unknown flag"):
        parse_subtitle_argument(text)


def test_cli_sidecar_carries_the_flags() -> None:
    made = sidecar("en:forced=film.en.srt")
    assert (made.language, str(made.path), made.forced, made.sdh) == ("en", "film.en.srt", True, False)
    assert sidecar("en=film.en.sdh.srt").sdh


def test_ids_names_and_default() -> None:
    assert unique_id("en", {"en", "en-2"}) == "en-3"
    docs = [SubtitleDocument("en", (), "srt", "utf-8"), SubtitleDocument("en", (), "srt", "utf-8", forced=True),
            SubtitleDocument("en", (), "srt", "utf-8", sdh=True), SubtitleDocument("en", (), "srt", "utf-8")]
    assert subtitle_names(docs) == ["English", "English (forced)", "English (SDH)", "English 2"]
    tracks = [("en", "en", False), ("en-forced", "en", True), ("fr", "fr", False)]
    assert subtitle_default(tracks, "en") == "en-forced"  # forced narratives show without a choice
    assert subtitle_default(tracks, "fr") == "fr"
    assert subtitle_default([("en", "en", False), ("fr-forced", "fr", True)], "de") == "en"


def _presentation() -> Presentation:
    seg = (Segment(uri="seg_00001.m4s", start=0.0, duration=2.0, size=1000, decode_time=0, duration_units=2000,
                   iframe_offset=10, iframe_length=100),)
    video = VideoTrack(id="360p", path="video/360p", init="init.mp4", codecs="avc1.64001e", timescale=1000,
                       segments=seg, width=640, height=360, frame_rate=Fraction(25))
    vtt = (Segment(uri="seg_00001.vtt", start=0.0, duration=2.0, size=100, decode_time=0, duration_units=2000),)

    def sub(track_id: str, name: str, **flags: bool) -> SubtitleTrack:
        return SubtitleTrack(id=track_id, path=f"subtitles/{track_id}", language="en", name=name,
                             vtt="subtitles.vtt", segments=vtt, **flags)

    return Presentation(duration=2.0, segment_seconds=2, video=(video,), subtitles=(
        sub("en", "English"), sub("en-forced", "English (forced)", forced=True, default=True),
        sub("en-sdh", "English (SDH)", sdh=True)))


def test_hls_master_signals_forced_and_sdh() -> None:
    master = m3u8.loads(render_master(_presentation()))
    by_name = {m.name: m for m in master.media if m.type == "SUBTITLES"}
    assert len(by_name) == 3  # NAMEs unique within the group
    forced, sdh, full = by_name["English (forced)"], by_name["English (SDH)"], by_name["English"]
    assert (forced.forced, forced.autoselect, forced.default) == ("YES", "YES", "YES")
    assert forced.characteristics is None
    assert sdh.characteristics == SDH_CHARACTERISTICS
    assert set(sdh.characteristics.split(",")) == {"public.accessibility.transcribes-spoken-dialog",
                                                   "public.accessibility.describes-music-and-sound"}
    assert (sdh.forced, full.forced, full.characteristics) == ("NO", "NO", None)


def test_dash_signals_forced_role_and_sdh_accessibility() -> None:
    mpd = MPEGDASHParser.parse(render_mpd(_presentation()))
    texts = [a for a in mpd.periods[0].adaptation_sets if a.content_type == "text"]
    roles = {a.representations[0].id: {r.value for r in a.roles} for a in texts}
    access = {a.representations[0].id: {(d.scheme_id_uri, d.value) for d in (a.accessibilities or [])}
              for a in texts}
    assert roles == {"text-en": {"subtitle"}, "text-en-forced": {"forced-subtitle", "main"},
                     "text-en-sdh": {"subtitle"}}
    assert access["text-en-sdh"] == {("urn:mpeg:dash:role:2011", "caption"),
                                     ("urn:tva:metadata:cs:AudioPurposeCS:2007", "2")}
    assert access["text-en"] == access["text-en-forced"] == set()


def test_job_spec_carries_flags_and_keeps_old_job_ids() -> None:
    plain = JobSpec(source="s3://b/k.mp4", output_prefix="outputs/k",
                    subtitles=(SubtitleRef(language="en", uri="s3://b/k.en.srt"),))
    assert json.loads(plain.canonical())["subtitles"] == [{"language": "en", "uri": "s3://b/k.en.srt"}]
    forced = JobSpec(source="s3://b/k.mp4", output_prefix="outputs/k",
                     subtitles=(SubtitleRef(language="en", uri="s3://b/k.en.srt", forced=True),))
    assert json.loads(forced.canonical())["subtitles"] == [{"language": "en", "uri": "s3://b/k.en.srt",
                                                            "forced": True}]
    assert JobSpec.model_validate_json(forced.model_dump_json()) == forced
