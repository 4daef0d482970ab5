"""Channel layouts (pure): the rule per layout, its pan expression, and NAMEs unique within the audio group."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.ffmpeg import PAN_EQUALS, encode_argv
from pipelines.ladder import load_ladder
from pipelines.layout import stereo_rule
from pipelines.plan import broadcast_pair, plan_encode
from pipelines.source import AudioStream, SourceInfo, VideoStream


@pytest.mark.parametrize(("channels", "layout", "name", "pan"), [
    (1, "mono", "mono", "stereo|FL=c0|FR=c0"),
    (1, "", "mono", "stereo|FL=c0|FR=c0"),
    (2, "stereo", "stereo", None),
    (6, "5.1", "5.1", "stereo|FL=FL+0.7071*FC+0.7071*BL|FR=FR+0.7071*FC+0.7071*BR"),
    (6, "5.1(side)", "5.1(side)", "stereo|FL=FL+0.7071*FC+0.7071*SL|FR=FR+0.7071*FC+0.7071*SR"),
    (8, "7.1", "7.1", "stereo|FL=FL+0.7071*FC+0.7071*SL+0.7071*BL|FR=FR+0.7071*FC+0.7071*SR+0.7071*BR"),
    (6, "", "6 channels", None),  # untagged discrete channels: swresample's default, named as such
    (4, "quad", "quad", None),
])
def test_each_layout_has_its_rule(channels: int, layout: str, name: str, pan: str | None) -> None:
    rule = stereo_rule(channels, layout)
    assert (rule.layout, rule.pan) == (name, pan)
    assert rule.rule


def test_the_lfe_is_dropped_in_the_bs775_downmix() -> None:
    assert "LFE" not in (stereo_rule(6, "5.1").pan or "") and "LFE dropped" in stereo_rule(6, "5.1").rule


def test_audio_names_are_unique_within_the_group() -> None:
    info = SourceInfo(path="/m/ep.mp4", format_name="mov", size_bytes=1, duration=4.0,
                      video=VideoStream(0, "h264", 640, 360),
                      audio=(AudioStream(1, "aac", 6, 48000, channel_layout="5.1", language="eng"),
                             AudioStream(2, "aac", 2, 48000, language="eng"),
                             AudioStream(3, "aac", 1, 48000, language="eng", title="English")))
    audio = plan_encode(info, load_ladder("default")).audio
    assert [a.name for a in audio] == ["English", "English 2", "English 3"]
    assert [a.id for a in audio] == ["en", "en-2", "en-3"]
    assert [a.source_layout for a in audio] == ["5.1", "stereo", "mono"]


def test_the_pan_expression_reaches_ffmpeg_unescaped() -> None:
    info = SourceInfo(path="/m/ep.mp4", format_name="mov", size_bytes=1, duration=4.0,
                      video=VideoStream(0, "h264", 640, 360),
                      audio=(AudioStream(1, "pcm_s16le", 6, 48000, channel_layout="5.1(side)"),))
    argv = encode_argv(plan_encode(info, load_ladder("default")), ffmpeg="ffmpeg", source=Path("/m/ep.mp4"),
                       out=Path("/o"), scratch=Path("/s"))
    graph = argv[argv.index("-filter_complex") + 1]
    assert "[0:1]pan=stereo|FL=FL+0.7071*FC+0.7071*SL|FR=FR+0.7071*FC+0.7071*SR[" in graph
    assert PAN_EQUALS not in " ".join(argv)


def _mono(index: int, **tags: str) -> AudioStream:
    return AudioStream(index, "pcm_s24le", 1, 48000, channel_layout="unknown", **tags)  # type: ignore[arg-type]


def test_untagged_mono_tracks_are_a_broadcast_pair_then_spares() -> None:
    info = SourceInfo(path="/m/ep.mxf", format_name="mxf", size_bytes=1, duration=4.0,
                      video=VideoStream(0, "mpeg2video", 1920, 1080), audio=tuple(_mono(i) for i in range(1, 9)))
    (programme,) = plan_encode(info, load_ladder("default")).audio
    assert (programme.stream_index, programme.pair_index, programme.source_layout) == (1, 2, "8 mono tracks")
    assert "tracks 3–8 not published" in programme.layout_rule and programme.default


@pytest.mark.parametrize(("streams", "languages"), [
    ((_mono(1, language="eng"), _mono(2, language="fra")), ()),  # tagged: two programmes
    ((_mono(1, title="Commentary"), _mono(2)), ()),
    ((_mono(1), _mono(2)), ("en", "fr")),  # the user says they are languages
    ((_mono(1), AudioStream(2, "aac", 2, 48000)), ()),  # not all mono
    ((_mono(1),), ()),
])
def test_tracks_that_say_what_they_are_stay_renditions_of_their_own(streams: tuple[AudioStream, ...],
                                                                     languages: tuple[str, ...]) -> None:
    assert broadcast_pair(streams, languages) is None
