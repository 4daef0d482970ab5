"""argv builders for ffmpeg (pure): the one-decode ladder encode and the quality measurement.

Commands are data: these return `list[str]`, tests compare them with tables, the runner executes them.
Filter graphs and outputs are built with ffmpeg-python; options it cannot express go through kwargs.
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path
from typing import Any

import ffmpeg as ffmpeg_python

from pipelines.chunk import Chunk, keyframe_frames
from pipelines.codecs import COLOURS, SAMPLE_ENTRIES
from pipelines.formats import ANALYZE_DURATION_US, FORMAT_WHITELIST, INPUT_PROTOCOLS, PROBE_SIZE_BYTES
from pipelines.limits import SVTAV1_LOGICAL_PROCESSORS
from pipelines.loudness import TRUE_PEAK_RATE, limiter_options, loudnorm_options
from pipelines.plan import EncodePlan
from pipelines.rendition import AudioRendition, VideoRendition

GLOBAL_ARGS = ("-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-nostats", "-progress", "pipe:1")
TONEMAP_CHAIN = (
    ("zscale", {"t": "linear", "npl": "100"}),
    ("format", {"pix_fmts": "gbrpf32le"}),
    ("zscale", {"p": "bt709"}),
    ("tonemap", {"tonemap": "hable", "desat": "0"}),
    ("zscale", {"t": "bt709", "m": "bt709", "r": "tv"}),
)
SEGMENT_PATTERN = "seg_%05d.m4s"
PAN_EQUALS = "~vodfleet-eq~"  # stands for '=' in pan expressions until _compile writes it back
INIT_NAME = "init.mp4"


def segment_name(number: int) -> str:
    """The file SEGMENT_PATTERN names for segment `number`."""
    return SEGMENT_PATTERN % number
SCRATCH_PLAYLIST = "ffmpeg.m3u8"  # ffmpeg's own playlist: read by nobody, never published


def demuxer_for(format_name: str) -> str:
    """ffprobe's format_name ("mov,mp4,m4a,...") → the demuxer to pin for the encode ("mov")."""
    return format_name.split(",", 1)[0]


def fps_text(fps: Fraction) -> str:
    return str(fps.numerator) if fps.denominator == 1 else f"{fps.numerator}/{fps.denominator}"


def source_input(plan: EncodePlan, source: Path, *, seek_us: int | None = None,
                 read_us: int | None = None) -> Any:
    """The master as an ffmpeg input; with `seek_us`/`read_us` (a chunk), ``-ss``/``-t`` before ``-i``."""
    window: dict[str, str] = {}
    if seek_us is not None:
        window["ss"] = microseconds_text(seek_us)
    if read_us is not None:
        window["t"] = microseconds_text(read_us)
    # "file:" prefix: a file named "concat:x" or "http:..." is still read as a local file; local files
    # only, the probed demuxer pinned, and any other demuxer refused (pipelines.formats); the probe
    # bounds are repeated so the encode finds exactly the streams the probe found.
    return ffmpeg_python.input(f"file:{source.resolve()}", protocol_whitelist=INPUT_PROTOCOLS,
                               f=demuxer_for(plan.source.format_name), format_whitelist=FORMAT_WHITELIST,
                               probesize=PROBE_SIZE_BYTES, analyzeduration=ANALYZE_DURATION_US, **window)


def prepared_video(plan: EncodePlan, stream: Any, *, dynamic_range: str = "SDR") -> Any:
    """Source video → deinterlaced, constant-rate 4:2:0: 8-bit SDR (an HDR master tone-mapped to BT.709), or for
    `dynamic_range` PQ/HLG (an HDR master's HEVC/AV1 rungs) the master's HDR picture kept in 10 bits."""
    return _finished(plan, _timed_video(plan, stream), dynamic_range)


def _timed_video(plan: EncodePlan, stream: Any) -> Any:
    """Deinterlaced and on the output frame grid: what every rung of every codec starts from."""
    video = stream[str(plan.source.video.index)]
    if plan.deinterlace:
        video = video.filter("bwdif", mode="send_frame", parity="auto", deint="all")
    # start_time=0: a picture that begins after the audio is held on its first frame from 0, so every
    # track starts at 0 and A/V sync survives (CMAF tracks here carry no edit lists)
    return video.filter("fps", fps=fps_text(plan.fps), start_time=0)


def _finished(plan: EncodePlan, video: Any, dynamic_range: str) -> Any:
    if dynamic_range != "SDR":  # the master's HDR kept (PQ/HLG, BT.2020): 10-bit for Main10 / AV1 Main
        return video.filter("format", pix_fmts="yuv420p10le")
    for name, kwargs in TONEMAP_CHAIN if plan.tonemap else ():
        video = video.filter(name, **kwargs)
    return video.filter("format", pix_fmts="yuv420p")


def prepared_audio(plan: EncodePlan, rendition: AudioRendition, stream: Any) -> Any:
    """The source audio on the title's timeline, as the encoder's input: exactly the title's samples less the
    encoder's priming.

    - resampled to the rendition's rate with a first sample at 0: a track that begins after the picture (an
      edit list, late audio in MPEG-TS) is padded with silence, gaps are bridged (async=1);
    - padded with silence or cut at the title's end (the picture's): a longer or shorter audio track becomes
      one that ends with the picture, never a track-length mismatch;
    - the first `rendition.priming` samples cut (less the picture's shift onto the frame grid,
      `EncodePlan.picture_shift`): the AAC encoder emits that many samples of its own delay
      first, and ffmpeg's fMP4 muxer (no edit list) presents that output from tfdt 0, so the source's sample
      n is presented at n / rate again. Compensating in the media rather than signalling it in an edit list
      (`elst` media_time) keeps every player in sync, including those that ignore edit lists in fMP4 init
      segments (hls.js in passthrough and Shaka read tfdt/trun only), and leaves the DASH timeline at 0
      without a presentationTimeOffset. The cost: the title's first 21 ms of sound (1024 samples at 48 kHz)
      are replaced by the decoder's warm-up.
    A mono, 5.1 or 7.1 master is made stereo first by its layout's rule (`pipelines.layout`).
    The AAC encoder flushes the input's last samples with a shorter last frame, so the track ends at the
    title's end within one AAC frame (measured: exactly, in trun sample durations).
    """
    total = plan.title_samples(rendition)
    if rendition.downmix is not None:  # mono → both sides, 5.1/7.1 → ITU-R BS.775 stereo (pipelines.layout)
        stream = stream.filter("pan", rendition.downmix.replace("=", PAN_EQUALS))
    audio = stream.filter("aresample", rendition.sample_rate, **{"async": 1, "first_pts": 0})
    # the encoder's input sample j is presented at (j + priming) / rate; the source's sample i belongs at
    # i / rate + picture_shift: so drop (priming - shift) samples from the head, or prepend silence
    head = rendition.priming - round(plan.picture_shift * rendition.sample_rate)
    if head > 0:
        audio = audio.filter("atrim", start_sample=head)
    elif head < 0:
        audio = audio.filter("adelay", delays=f"{-head}S", all=1)
    length = max(1, total - rendition.priming)
    return (audio.filter("apad", whole_len=length)
            .filter("atrim", end_sample=length)
            .filter("asetpts", "PTS-STARTPTS"))


def normalised_audio(plan: EncodePlan, rendition: AudioRendition, audio: Any) -> Any:
    """The rendition's audio with pass 2 of the loudness normalisation appended (pipelines.loudness):
    ``loudnorm`` with the source stream's pass-1 figures and ``linear=true``, then back to the rendition's
    rate (loudnorm works, and outputs, at 192 kHz); a ``limited`` rendition gets its gain (``volume``) and a
    true-peak limiter (``alimiter`` at 192 kHz) instead. Unchanged when the preset is ``off`` or the plan was not
    measured (a plan from `plan_encode` alone)."""
    target = plan.loudness.target
    track = plan.loudness.track(rendition.id)
    if target is None or track is None or track.mode == "off":
        return audio
    if track.mode == "limited":  # the gain, then a true-peak limiter at 4× oversampling (pipelines.loudness)
        return (audio.filter("volume", f"{track.gain_db:.2f}dB")
                .filter("aresample", TRUE_PEAK_RATE)
                .filter("alimiter", **limiter_options(track))
                .filter("aresample", rendition.sample_rate))
    return (audio.filter("loudnorm", **loudnorm_options(track, target))
            .filter("aresample", rendition.sample_rate))


def source_loudness_argv(plan: EncodePlan, *, ffmpeg: str, source: Path, rendition: AudioRendition,
                         normalised: bool = False, true_peak: bool = True) -> list[str]:
    """Pass 1: the rendition's source audio through the same chain as the encode (channels picked, layout made
    stereo, on the title's timeline), measured by the same BS.1770 meter as the published renditions
    (``ebur128=peak=true``, summary on stderr: `pipelines.loudness.parse_ebur128_summary`); decodes nothing else.
    With `normalised`, the plan's normalisation too (a limited rendition's correction passes); without `true_peak`,
    the integrated loudness only (no 4× oversampled peak meter: about 2.3× cheaper; the submit's silence check)."""
    audio = prepared_audio(plan, rendition, _audio_source(plan, rendition, source_input(plan, source)))
    if normalised:
        audio = normalised_audio(plan, rendition, audio)
    measured = audio.filter("ebur128", **({"peak": "true"} if true_peak else {}), framelog="verbose")
    argv = _compile(ffmpeg, [ffmpeg_python.output(measured, "-", f="null")])  # pan's '=' written back there
    # the summary is logged at info: the encode's "-loglevel error" (GLOBAL_ARGS) becomes "info", no progress
    head = [arg for arg in GLOBAL_ARGS if arg not in ("-y", "-progress", "pipe:1")]
    head[head.index("-loglevel") + 1] = "info"
    return [argv[0], *head, *argv[1 + len(GLOBAL_ARGS):]]


def loudness_meter_argv(ffmpeg: str, media: Path) -> list[str]:
    """BS.1770 meter of a local file's first audio stream: ``ebur128=peak=true`` (summary on stderr:
    `pipelines.loudness.parse_ebur128_summary`); per-frame lines are logged at verbose, hidden here."""
    return [ffmpeg, "-hide_banner", "-nostdin", "-nostats", "-loglevel", "info", "-protocol_whitelist", "file",
            "-i", f"file:{media.resolve()}", "-map", "0:a:0", "-af", "ebur128=peak=true:framelog=verbose",
            "-f", "null", "-"]


def hls_output_args(plan: EncodePlan, folder: Path, *, video: bool) -> dict[str, Any]:
    segment_flags = "movflags=+negative_cts_offsets:use_editlist=0" if video else "use_editlist=0"
    return {
        "f": "hls",
        "hls_time": plan.segment_seconds,
        "hls_playlist_type": "vod",
        "hls_segment_type": "fmp4",
        # No edit lists and non-negative CTS from 0: every rendition's timeline starts at exactly 0.
        "hls_segment_options": segment_flags,
        "hls_fmp4_init_filename": INIT_NAME,
        "hls_segment_filename": str(folder / SEGMENT_PATTERN),
        "start_number": 1,
        "map_metadata": -1,
        "map_chapters": -1,
        "max_muxing_queue_size": 4096,
    }


def video_output_args(plan: EncodePlan, rung: VideoRendition) -> dict[str, Any]:
    """The encoder options of one rung: x264 (H.264), libx265 (HEVC, `hvc1`) or libsvtav1 (AV1).

    Every codec puts keyframes on the same grid: every `gop_frames` frames and forced at every `gop_seconds`
    (time-based, so 23.976/29.97 stay aligned across rungs and codecs), closed GOPs, no scene-cut keyframes
    (x264/x265 ``scenecut=0``, ``open-gop=0``, fixed ``keyint``/``min-keyint``; x265's forced keyframes made IDR;
    SVT-AV1 ``keyint``, ``irefresh-type=2`` (KEY frames: closed GOP), ``scd=0``; ``lp`` bounds its threads).
    The colour signalling (VUI / sequence header) is the rung's dynamic range (`pipelines.codecs.COLOURS`).
    """
    gop = plan.gop_frames
    colour = COLOURS[rung.dynamic_range]
    # one-pass ABR at the rung's bitrate, or capped CRF for an H.264 per-title rung (`VideoRendition.crf`)
    rate = {"b:v": rung.bitrate} if rung.crf is None or rung.codec != "h264" else {"crf": f"{rung.crf:g}"}
    common = {
        **rate,
        "maxrate": rung.maxrate,
        "bufsize": rung.bufsize,
        "g": gop,
        "keyint_min": gop,
        # Time-based keyframes keep every rung aligned even at 23.976/29.97; closed GOPs, no scene cuts.
        "force_key_frames": f"expr:gte(t,n_forced*{plan.gop_seconds})",
        "color_primaries": colour.primaries,
        "color_trc": colour.transfer,
        "colorspace": colour.matrix,
    }
    if rung.codec == "hevc":
        return {
            "c:v": "libx265", "preset": plan.encoder.x265_preset, "profile:v": rung.profile,
            "tag:v": SAMPLE_ENTRIES["hevc"],  # hvc1: Apple's HLS authoring spec for HEVC in fMP4
            **common, "forced-idr": 1,
            "x265-params": f"keyint={gop}:min-keyint={gop}:scenecut=0:open-gop=0:log-level=error",
        }
    if rung.codec == "av1":
        # maxrate/bufsize not passed: the AV1 rungs are plain VBR at the target bitrate (rc=1), their peaks not
        # capped by a VBV model; the manifests declare the measured peak as for every rung
        return {
            "c:v": "libsvtav1", "preset": plan.encoder.svtav1_preset,
            **{k: v for k, v in common.items() if k not in ("maxrate", "bufsize", "keyint_min")},
            # lp: one thread pool per rung, sized to fit the encode's memory bound (pipelines.limits)
            "svtav1-params": f"keyint={gop}:irefresh-type=2:scd=0:rc=1:lp={SVTAV1_LOGICAL_PROCESSORS}",
        }
    return {
        "c:v": "libx264",
        "preset": plan.encoder.preset,
        "profile:v": rung.profile,
        **common,
        "sc_threshold": 0,
        "x264-params": "open-gop=0:scenecut=0",
        # A/53 caption SEI in the rungs only for in-band captions (pipelines.captions.service): otherwise a master's
        # CEA-608 is published as WebVTT and CLOSED-CAPTIONS=NONE says no variant carries any (RFC 8216 4.3.4.2).
        "a53cc": int(plan.a53cc),
    }


def audio_output_args(rendition: AudioRendition) -> dict[str, Any]:
    return {
        "c:a": "aac",
        "profile:a": "aac_low",
        "b:a": rendition.bitrate,
        "ac": rendition.channels,  # 5.1 and other layouts are downmixed by swresample's standard matrix
        "ar": rendition.sample_rate,
    }


def encode_argv(plan: EncodePlan, *, ffmpeg: str, source: Path, out: Path, scratch: Path) -> list[str]:
    """One ffmpeg: decode once, split + scale to every rung, encode audio and extract text subtitles.

    Writes CMAF under out/video/<id>/ and out/audio/<id>/, and WebVTT of embedded subtitles under scratch/.
    """
    stream = source_input(plan, source)
    outputs = [ffmpeg_python.output(scaled, str(out / "video" / rung.id / SCRATCH_PLAYLIST),
                                    **video_output_args(plan, rung), **hls_output_args(plan, out / "video" / rung.id,
                                                                                      video=True))
               for rung, scaled in zip(plan.video, _rung_streams(plan, stream), strict=True)]
    outputs += _audio_and_subtitle_outputs(plan, stream, out=out, scratch=scratch)
    return _compile(ffmpeg, outputs)


def _rung_streams(plan: EncodePlan, stream: Any) -> list[Any]:
    """The prepared picture split and scaled to every rung (one decode feeds them all), in `plan.video` order.

    Rungs of one size and dynamic range (720p in H.264 and in AV1) share one scaled picture, split after the
    scaler; an HDR master's SDR (tone-mapped) and HDR (10-bit) pictures are split from one timed decode."""
    ranges = list(dict.fromkeys(r.dynamic_range for r in plan.video))
    timed = _timed_video(plan, stream)
    bases = _split(timed, len(ranges))
    groups: dict[tuple[int, int, str], list[int]] = {}
    for number, rung in enumerate(plan.video):
        groups.setdefault((rung.width, rung.height, rung.dynamic_range), []).append(number)
    out: list[Any] = [None] * len(plan.video)
    for dynamic_range, base in zip(ranges, bases, strict=True):
        keys = [k for k in groups if k[2] == dynamic_range]
        split = _finished(plan, base, dynamic_range).filter_multi_output("split", len(keys))
        for number, (width, height, _) in enumerate(keys):
            scaled = split[number].filter("scale", width, height, flags="bicubic").filter("setsar", "1")
            members = groups[(width, height, dynamic_range)]
            shared = [scaled] if len(members) == 1 else scaled.filter_multi_output("split", len(members))
            for index, member in enumerate(members):
                out[member] = shared[index]
    return out


def _split(stream: Any, count: int) -> list[Any]:
    """`count` copies of a stream: itself when one, else a ``split`` filter's outputs."""
    if count == 1:
        return [stream]
    node = stream.filter_multi_output("split", count)
    return [node[i] for i in range(count)]


def _audio_and_subtitle_outputs(plan: EncodePlan, stream: Any, *, out: Path, scratch: Path) -> list[Any]:
    outputs = []
    for rendition in plan.audio:
        folder = out / "audio" / rendition.id
        outputs.append(ffmpeg_python.output(
            normalised_audio(plan, rendition, prepared_audio(plan, rendition, _audio_source(plan, rendition, stream))),
            str(folder / SCRATCH_PLAYLIST),
            **audio_output_args(rendition), **hls_output_args(plan, folder, video=False)))
    for sub in plan.embedded_subtitles:
        outputs.append(ffmpeg_python.output(
            stream[str(sub.stream_index)], str(scratch / f"embedded_{sub.stream_index}.vtt"),
            **{"c:s": "webvtt", "f": "webvtt"}))
    return outputs


def _audio_source(plan: EncodePlan, rendition: AudioRendition, stream: Any) -> Any:
    """The source stream of a rendition; a broadcast pair's two mono tracks merged into left and right; the channels an
    --audio-map entry names (from one or more streams: merged, then picked by pan)."""
    if rendition.channel_sources:
        streams = list(dict.fromkeys(index for index, _ in rendition.channel_sources))
        offsets: dict[int, int] = {}
        counts = {a.index: a.channels for a in plan.source.audio}
        for index in streams:
            offsets[index] = sum(counts[i] for i in streams[:streams.index(index)])
        picked = [offsets[index] + channel for index, channel in rendition.channel_sources]
        merged = stream[str(streams[0])] if len(streams) == 1 else ffmpeg_python.filter(
            [stream[str(index)] for index in streams], "amerge", inputs=len(streams))
        left, right = picked[0], picked[-1]
        return merged.filter("pan", f"stereo|FL{PAN_EQUALS}c{left}|FR{PAN_EQUALS}c{right}")
    if rendition.pair_index is None:
        return stream[str(rendition.stream_index)]
    return ffmpeg_python.filter([stream[str(rendition.stream_index)], stream[str(rendition.pair_index)]], "amerge",
                                inputs=2)


def _compile(ffmpeg: str, outputs: list[Any]) -> list[str]:
    argv: list[str] = ffmpeg_python.merge_outputs(*outputs).compile(cmd=ffmpeg)
    # ffmpeg-python escapes an '=' inside a filter argument once too often (pan then sees a backslash and refuses
    # the expression); pan expressions carry PAN_EQUALS instead, written back here as a plain '=' (after the
    # filter's own '=', ffmpeg's graph parser splits only on [],; and pan reads the rest as its one argument)
    argv = [a.replace(PAN_EQUALS, "=") if i and argv[i - 1] == "-filter_complex" else a
            for i, a in enumerate(argv)]
    return [argv[0], *GLOBAL_ARGS, *argv[1:]]


def microseconds_text(us: int) -> str:
    """µs → the seconds string ffmpeg's time options parse exactly: 5997658 → "5.997658"."""
    return f"{us // 1_000_000}.{us % 1_000_000:06d}"


def chunk_argv(plan: EncodePlan, chunk: Chunk, *, ffmpeg: str, source: Path, out: Path) -> list[str]:
    """One chunk of the split-and-stitch encode: every video rung for the chunk's frames (from its pre-roll
    on: `Chunk.encode_start_frame`), no audio.

    Accurate seek (``-ss`` before ``-i`` decodes from the previous keyframe and drops frames before the
    point; floored to the µs so the chunk's first frame is kept), then the same prepared/split/scaled
    graph as the whole-file encode. Per rung: exactly ``chunk.frames`` frames (``-frames:v``; the last
    chunk runs to the end), keyframes forced at the whole-file grid's frames, the hls muxer cutting on the
    whole-file segment grid (``hls_time`` = chunk.split_us), segments numbered from the chunk's first
    segment number, ``-output_ts_offset`` + ``frag_discont`` so tfdt (and sidx) carry the whole-file decode
    times, ``fragment_index`` so mfhd sequence numbers match too. The first chunk muxes exactly like the
    whole file (no offset: its B-frame delay would make the first dts negative, and the muxer would then
    shift every timestamp by that delay). Writes out/video/<id>/init.mp4 and
    seg_<n>.m4s; the init segment does not depend on the chunk (no dates, no durations in it).
    """
    first = chunk.encode_start_frame  # (a pre-roll segment before the chunk: `encode_chunk` deletes it)
    start_us = first * 1_000_000 * plan.fps.denominator // plan.fps.numerator  # floored
    offset_us = round(Fraction(first * 1_000_000) / plan.fps)
    read_us = None if chunk.last else math.ceil(Fraction(chunk.encode_frames * 1_000_000) / plan.fps) + 1_000_000
    stream = source_input(plan, source, seek_us=start_us, read_us=read_us)
    keyframes = ",".join(microseconds_text(round(Fraction(frame * 1_000_000) / plan.fps))
                         for frame in keyframe_frames(chunk, plan.gop_seconds, plan.fps))
    outputs = []
    for rung, scaled in zip(plan.video, _rung_streams(plan, stream), strict=True):
        folder = out / "video" / rung.id
        hls = {**hls_output_args(plan, folder, video=True), "hls_time": microseconds_text(chunk.split_us)}
        if first:
            hls.update({
                "start_number": chunk.encode_first_segment_number,
                "hls_segment_options": f"movflags=+negative_cts_offsets+frag_discont:use_editlist=0:"
                                       f"fragment_index={chunk.encode_first_segment_number}",
                "output_ts_offset": microseconds_text(offset_us),
            })
        video = {**video_output_args(plan, rung), "force_key_frames": keyframes}
        if not chunk.last:
            video["frames:v"] = chunk.encode_frames
        outputs.append(ffmpeg_python.output(scaled, str(folder / SCRATCH_PLAYLIST), **video, **hls))
    return _compile(ffmpeg, outputs)


def audio_argv(plan: EncodePlan, *, ffmpeg: str, source: Path, out: Path, scratch: Path) -> list[str]:
    """The whole title's audio renditions and embedded subtitles, without the picture (chunked encodes)."""
    stream = source_input(plan, source)
    return _compile(ffmpeg, _audio_and_subtitle_outputs(plan, stream, out=out, scratch=scratch))


def decode_argv(ffmpeg: str, media: Path) -> list[str]:
    """Decode every frame of a local file's first video stream, stopping at the first error; the frame
    count is the last ``frame=`` of the progress on stdout (every decoded frame: ``-fps_mode passthrough``
    neither drops nor duplicates by timestamp)."""
    return [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-xerror", "-nostats", "-progress", "pipe:1",
            "-protocol_whitelist", "file", "-i", f"file:{media.resolve()}", "-map", "0:v:0", "-fps_mode", "passthrough",
            "-f", "null", "-"]


def output_folders(plan: EncodePlan, out: Path) -> list[Path]:
    """Folders encode_argv writes into (ffmpeg does not create them)."""
    return [out / "video" / r.id for r in plan.video] + [out / "audio" / a.id for a in plan.audio]


def quality_argv(plan: EncodePlan, *, ffmpeg: str, source: Path, renditions: dict[str, Path],
                 stats: Path) -> list[str]:
    """PSNR and SSIM of every rung against the prepared source scaled to the rung's size, in one decode.

    The reference goes through the same deinterlace/fps/tone-map chain, so the figures measure the
    encode, not the preprocessing. Per-frame figures go to stats/psnr_<id>.log and stats/ssim_<id>.log.
    """
    stream = source_input(plan, source)
    ranges = list(dict.fromkeys(r.dynamic_range for r in plan.video))
    references: dict[str, list[Any]] = {}
    for dynamic_range, base in zip(ranges, _split(_timed_video(plan, stream), len(ranges)), strict=True):
        count = sum(r.dynamic_range == dynamic_range for r in plan.video)
        reference = _finished(plan, base, dynamic_range).filter("setpts", "PTS-STARTPTS")
        node = reference.filter_multi_output("split", count)
        references[dynamic_range] = [node[i] for i in range(count)]
    sinks = []
    for rung in plan.video:
        encoded = ffmpeg_python.input(f"file:{renditions[rung.id].resolve()}", protocol_whitelist=INPUT_PROTOCOLS,
                                      f="mp4")
        distorted = encoded.video.filter("setpts", "PTS-STARTPTS").filter("format", pix_fmts="yuv420p")
        # an HDR rung against the master's HDR picture (both measured as 8-bit 4:2:0, so PSNR stays on 255)
        ref = references[rung.dynamic_range].pop(0).filter("scale", rung.width, rung.height, flags="bicubic")
        if rung.hdr:
            ref = ref.filter("format", pix_fmts="yuv420p")
        d_pair = distorted.filter_multi_output("split", 2)
        r_pair = ref.filter_multi_output("split", 2)
        sinks.append(ffmpeg_python.filter([d_pair[0], r_pair[0]], "psnr",
                                          stats_file=str(stats / f"psnr_{rung.id}.log")))
        sinks.append(ffmpeg_python.filter([d_pair[1], r_pair[1]], "ssim",
                                          stats_file=str(stats / f"ssim_{rung.id}.log")))
    outputs = [ffmpeg_python.output(sink, "-", f="null") for sink in sinks]
    argv: list[str] = ffmpeg_python.merge_outputs(*outputs).compile(cmd=ffmpeg)
    return [argv[0], "-hide_banner", "-nostdin", "-loglevel", "error", "-nostats", *argv[1:]]
