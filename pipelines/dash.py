"""The DASH MPD (ISO/IEC 23009-1, DASH-IF IOP) of a measured `Presentation`, over the SAME CMAF files as HLS.

``render_mpd`` is pure (built with xml.etree, so escaping is the library's job); ``write_mpd`` is the effect.
A static, isoff-live MPD: one Period; one video AdaptationSet per codec (H.264, then HEVC and AV1 when the job
opted in: DASH-IF IOP v4.3 §3.2.13 keeps Representations of different codecs in different AdaptationSets, as a
client switches seamlessly only within one); one AdaptationSet per audio rendition (a 5.1 rendition in its own
beside the stereo one of its language: DASH-IF IOP puts Representations of different channel counts in different
AdaptationSets, and a player picks by AudioChannelConfiguration) and per subtitle track (a player switches language
by AdaptationSet). An HDR master's HEVC/AV1 set carries its
colour as ISO/IEC 23001-8 (CICP) descriptors (DASH-IF IOP v4.3 §6.2.5): EssentialProperty
``urn:mpeg:mpegB:cicp:TransferCharacteristics`` (16 PQ, 18 HLG; a client that cannot render it skips the set) and
SupplementalProperty ColourPrimaries / MatrixCoefficients (9: BT.2020). Text is WebVTT in ISO-BMFF
(``application/mp4``, codecs ``wvtt``; DASH-IF IOP) segmented like the media, or, when the job opted in, a
whole-title ``.vtt`` sidecar as a BaseURL (ffmpeg-based clients then need ``-allowed_extensions``).
Segments are addressed by ``$Number$`` from 1 with a SegmentTimeline of the measured tfdt/durations, runs
folded with ``r``, so each ``S`` matches a real file even when the last segment is short.
"""

from __future__ import annotations

import itertools
import math
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

from pipelines.codecs import CODECS, COLOURS
from pipelines.language import iso639_2t
from pipelines.presentation import ClosedCaptions, Presentation, Segment, Storyboard, SubtitleTrack, Track, VideoTrack
from pipelines.textfile import write_text_atomic

MPD_NAME = "manifest.mpd"
NAMESPACE = "urn:mpeg:dash:schema:mpd:2011"
PROFILE = "urn:mpeg:dash:profile:isoff-live:2011"
ROLE_SCHEME = "urn:mpeg:dash:role:2011"
# TV-Anytime's AudioPurposeCS (DVB-DASH, ETSI TS 103 285; Shaka reads it): value 1 audio description,
# value 2 hard of hearing. SDH text carries it beside the ISO/IEC 23009-1 Role scheme's "caption" (DASH-IF IOP).
AUDIO_PURPOSE_SCHEME = "urn:tva:metadata:cs:AudioPurposeCS:2007"
CHANNELS_SCHEME = "urn:mpeg:dash:23003:3:audio_channel_configuration:2011"  # value: the channel count
# ISO/IEC 23001-8 (CICP) ChannelConfiguration: value 6 is 5.1 (C, L, R, Ls, Rs, LFE). Written beside the count for a
# multichannel Representation (DASH-IF IOP: the layout, not only the count; a 6-channel count could be 6.0)
CICP_SCHEME = "urn:mpeg:mpegB:cicp:ChannelConfiguration"
CICP_LAYOUTS = {6: "6", 8: "12"}  # channels → ChannelConfiguration: 5.1, 7.1 (back surrounds)
WVTT_CODECS = "wvtt"  # RFC 6381 string of WebVTT in ISO-BMFF (ISO/IEC 14496-30)
MEDIA_TEMPLATE = "seg_$Number%05d$.m4s"  # the names ffmpeg's hls muxer writes: seg_%05d.m4s from 1
THUMBNAIL_SCHEME = "http://dashif.org/thumbnail_tile"  # DASH-IF IOP v4.3 §6.2.6
SHEET_TEMPLATE = "sprite_$Number%04d$.jpg"  # pipelines.storyboard.SHEET_PATTERN
CICP = "urn:mpeg:mpegB:cicp:"  # ISO/IEC 23001-8 code points as DASH descriptors (DASH-IF IOP v4.3 §6.2.5)
# In-band captions on the video AdaptationSet (SCTE 214-1 §7.2.5 as DASH-IF IOP 4.3 §6.4.3 uses them).
CEA608_SCHEME = "urn:scte:dash:cc:cea-608:2015"
CEA708_SCHEME = "urn:scte:dash:cc:cea-708:2015"


def caption_accessibility(captions: tuple[ClosedCaptions, ...]) -> list[tuple[str, str]]:
    """(schemeIdUri, value) of the Accessibility descriptors naming in-band captions, ISO 639-2 languages:
    608 ``CC1=eng;CC3=spa`` and 708 ``1=lang:eng;2=lang:spa`` (DASH-IF IOP 4.3 §6.4.3); [] for none."""
    cea608 = ";".join(f"{c.instream_id}={iso639_2t(c.language)}" for c in captions if not c.cea708)
    cea708 = ";".join(f"{c.instream_id.removeprefix('SERVICE')}=lang:{iso639_2t(c.language)}"
                      for c in captions if c.cea708)
    return [(scheme, value) for scheme, value in ((CEA608_SCHEME, cea608), (CEA708_SCHEME, cea708)) if value]


def xs_duration(seconds: float) -> str:
    """xs:duration to the millisecond: 5.28 -> 'PT5.28S', 3725.5 -> 'PT1H2M5.5S'."""
    hours, rest = divmod(round(seconds * 1000), 3_600_000)
    minutes, millis = divmod(rest, 60_000)
    secs = f"{millis / 1000:.3f}".rstrip("0").rstrip(".")
    return "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") + f"{secs}S"


def _ratio(value: Fraction) -> str:
    """A frame rate as DASH writes it: '25', '30000/1001'."""
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def timeline(segments: tuple[Segment, ...]) -> list[tuple[int | None, int, int]]:
    """SegmentTimeline runs (t, d, r): t only where the timeline is not contiguous, r = extra repeats."""
    runs: list[tuple[int | None, int, int]] = []
    expected: int | None = None
    for segment in segments:
        start, duration = segment.decode_time, segment.duration_units
        if runs and start == expected and runs[-1][1] == duration:
            t, d, r = runs[-1]
            runs[-1] = (t, d, r + 1)
        else:
            runs.append((None if start == expected else start, duration, 0))
        expected = start + duration
    return runs


def _element(parent: ET.Element, tag: str, **attributes: str) -> ET.Element:
    return ET.SubElement(parent, tag, attributes)


def _template(parent: ET.Element, track: Track | SubtitleTrack) -> None:
    segments = track.fragments if isinstance(track, SubtitleTrack) else track.segments
    template = _element(parent, "SegmentTemplate", timescale=str(track.timescale),
                        initialization=f"{track.path}/{track.init}", media=f"{track.path}/{MEDIA_TEMPLATE}",
                        startNumber="1")
    runs = _element(template, "SegmentTimeline")
    for t, d, r in timeline(segments):
        run = _element(runs, "S", **({"t": str(t)} if t is not None else {}), d=str(d))
        if r:
            run.set("r", str(r))


def render_mpd(p: Presentation) -> str:
    """The MPD text (UTF-8, two-space indented, with an XML declaration)."""
    longest = max((s.duration for t in (*p.video, *p.audio) for s in t.segments), default=0.0)
    mpd = ET.Element("MPD", {"xmlns": NAMESPACE, "profiles": PROFILE, "type": "static",
                             "mediaPresentationDuration": xs_duration(p.duration),
                             "minBufferTime": xs_duration(max(float(p.segment_seconds), longest))})
    for key, value in p.provenance:
        text = f"vodfleet-{key}: {value}".replace("--", "- -").rstrip("-")  # '--' may not occur in a comment
        mpd.append(ET.Comment(f" {text} "))
    period = _element(mpd, "Period", id="0", start="PT0S")
    ids = itertools.count()
    for codec in sorted({v.codec for v in p.video}, key=lambda c: CODECS.index(c) if c in CODECS else len(CODECS)):
        # in-band captions ride in the H.264 rungs' SEI only (libx264 -a53cc; x265 and SVT-AV1 carry none here)
        _video_set(period, str(next(ids)), [v for v in p.video if v.codec == codec],
                   p.closed_captions if codec == "h264" else ())
    main_audio = next((i for i, a in enumerate(p.audio) if a.default and not a.surround_of), 0)
    for i, audio in enumerate(p.audio):
        audio_set = _element(period, "AdaptationSet", id=str(next(ids)), contentType="audio",
                             mimeType="audio/mp4", lang=audio.language, segmentAlignment="true",
                             startWithSAP="1")
        _element(audio_set, "Label").text = audio.name or audio.language
        if audio.role == "description":  # DASH-IF IOP: audio description for the visually impaired
            _element(audio_set, "Accessibility", schemeIdUri=AUDIO_PURPOSE_SCHEME, value="1")
        # a 5.1 rendition has its stereo sibling's Role (main for the main programme's): the player then chooses
        # between them by AudioChannelConfiguration (Shaka: preferredAudioChannelCount, 2 by default)
        main = i == main_audio or (audio.surround_of != "" and audio.surround_of == p.audio[main_audio].id)
        role = "commentary" if audio.role == "commentary" else "main" if main else "alternate"
        _element(audio_set, "Role", schemeIdUri=ROLE_SCHEME, value=role)
        rep = _element(audio_set, "Representation", id=f"audio-{audio.id}", bandwidth=str(audio.peak_bitrate),
                       codecs=audio.codecs, audioSamplingRate=str(audio.sample_rate))
        _element(rep, "AudioChannelConfiguration", schemeIdUri=CHANNELS_SCHEME, value=str(audio.channels))
        if audio.channels in CICP_LAYOUTS:
            _element(rep, "AudioChannelConfiguration", schemeIdUri=CICP_SCHEME, value=CICP_LAYOUTS[audio.channels])
        _template(rep, audio)
    main_text = next((i for i, s in enumerate(p.subtitles) if s.default), None)
    for i, sub in enumerate(p.subtitles):
        # DASH-IF IOP text: WebVTT in ISO-BMFF segments (14496-30), or the opt-in whole-title sidecar.
        text_set = _element(period, "AdaptationSet", id=str(next(ids)), contentType="text",
                            mimeType="text/vtt" if sub.vtt else "application/mp4", lang=sub.language)
        if not sub.vtt:
            text_set.set("codecs", WVTT_CODECS)
            text_set.set("segmentAlignment", "true")
            text_set.set("startWithSAP", "1")
        _element(text_set, "Label").text = sub.name or sub.language
        if sub.sdh:  # transcribes dialogue and describes sounds (schema order: Accessibility before Role)
            _element(text_set, "Accessibility", schemeIdUri=ROLE_SCHEME, value="caption")
            _element(text_set, "Accessibility", schemeIdUri=AUDIO_PURPOSE_SCHEME, value="2")
        role = "forced-subtitle" if sub.forced else "subtitle"  # DASH-IF IOP v5 role for forced narratives
        _element(text_set, "Role", schemeIdUri=ROLE_SCHEME, value=role)
        if i == main_text:  # the HLS DEFAULT=YES subtitle: shown unless the viewer turns it off
            _element(text_set, "Role", schemeIdUri=ROLE_SCHEME, value="main")
        addressed = sub.segments if sub.vtt else sub.fragments
        seconds = sum(s.duration for s in addressed)
        peak = max((s.size * 8 / s.duration for s in addressed if s.duration > 0), default=0.0)
        bits = sum(s.size for s in addressed) * 8
        rep = _element(text_set, "Representation", id=f"text-{sub.id}",
                       bandwidth=str(max(1, round(bits / seconds if sub.vtt and seconds > 0 else peak))))
        if sub.vtt:
            _element(rep, "BaseURL").text = f"{sub.path}/{sub.vtt}"
        else:
            _template(rep, sub)
    if p.storyboard is not None:
        _thumbnails(period, str(next(ids)), p.storyboard)
    ET.indent(mpd, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(mpd, encoding="unicode") + "\n"


def _video_set(period: ET.Element, ident: str, tracks: list[VideoTrack],
               captions: tuple[ClosedCaptions, ...] = ()) -> None:
    """One video AdaptationSet: every rendition of one codec, by peak bitrate; an HDR set's colour descriptors;
    the Accessibility descriptors of the in-band `captions` its rungs carry."""
    videos = sorted(tracks, key=lambda v: v.peak_bitrate)
    aspects = {Fraction(v.width, v.height) for v in videos if v.height}
    video_set = _element(period, "AdaptationSet", id=ident, contentType="video",
                         mimeType="video/mp4", segmentAlignment="true", startWithSAP="1",
                         maxWidth=str(max(v.width for v in videos)),
                         maxHeight=str(max(v.height for v in videos)),
                         maxFrameRate=_ratio(max(v.frame_rate for v in videos)))
    if len(aspects) == 1:  # one picture aspect ratio for the set, only if every rung shares it
        aspect = aspects.pop()
        video_set.set("par", f"{aspect.numerator}:{aspect.denominator}")
    ranges = {v.video_range for v in videos}
    if ranges != {"SDR"}:  # an HDR set (never mixed with SDR: one codec's rungs share the master's range)
        colour = COLOURS[ranges.pop()]
        _element(video_set, "EssentialProperty", schemeIdUri=f"{CICP}TransferCharacteristics",
                 value=str(colour.cicp_transfer))
        _element(video_set, "SupplementalProperty", schemeIdUri=f"{CICP}ColourPrimaries",
                 value=str(colour.cicp_primaries))
        _element(video_set, "SupplementalProperty", schemeIdUri=f"{CICP}MatrixCoefficients",
                 value=str(colour.cicp_matrix))
    for scheme, value in caption_accessibility(captions):  # schema order: before Representation
        _element(video_set, "Accessibility", schemeIdUri=scheme, value=value)
    for video in videos:
        rep = _element(video_set, "Representation", id=video.id, bandwidth=str(video.peak_bitrate),
                       codecs=video.codecs, width=str(video.width), height=str(video.height),
                       frameRate=_ratio(video.frame_rate), sar="1:1")
        _template(rep, video)


def _thumbnails(period: ET.Element, ident: str, board: Storyboard) -> None:
    """DASH-IF thumbnail tiles: an image AdaptationSet whose segments are the sheets (one every `sheet_seconds`,
    the last cut by the Period's end); the Representation's width/height are a whole sheet's, the
    EssentialProperty gives the grid, so a tile is (width / columns) x (height / rows)."""
    image_set = _element(period, "AdaptationSet", id=ident, contentType="image", mimeType="image/jpeg")
    _element(image_set, "SegmentTemplate", media=f"{board.path}/{SHEET_TEMPLATE}", timescale="1000",
             duration=str(round(board.sheet_seconds * 1000)), startNumber="1")
    peak = max((s.size for s in board.sheets), default=0) * 8 / board.sheet_seconds
    rep = _element(image_set, "Representation", id="thumbnails", bandwidth=str(max(1, math.ceil(peak))),
                   width=str(board.tile_width * board.columns), height=str(board.tile_height * board.rows))
    _element(rep, "EssentialProperty", schemeIdUri=THUMBNAIL_SCHEME, value=f"{board.columns}x{board.rows}")


def write_mpd(root: Path, p: Presentation) -> str:
    """Write ``root/manifest.mpd`` (via a temporary name and a rename) and return its relative path."""
    write_text_atomic(root / MPD_NAME, render_mpd(p))
    return MPD_NAME
