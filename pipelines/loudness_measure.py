"""Loudness measurements (effects): pass 1 over the source's audio, and the meter over published renditions.

    measure_plan(plan, source, tools=)            → the plan with each source audio stream measured (pass 1)
    refuse_silent(plan, source, tools=)           → SilentAudio if a rendition's source audio is silent (submit)
    measure_renditions(root, presentation, …)     → {rendition id: Loudness} of the published CMAF audio
    loudness_report(plan, outputs)                → report.json's `loudness` section

A master whose audio is silent cannot be normalised: `SilentAudio` (code ``audio_silent``) names the stream.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pipelines.errors import FFmpegFailed, InputRejected
from pipelines.ffmpeg import loudness_meter_argv, source_loudness_argv
from pipelines.loudness import (
    CORRECTION_LU,
    MAX_CORRECTIONS,
    QC_TOLERANCE_LU,
    Loudness,
    LoudnessPlan,
    LoudnessTarget,
    TrackLoudness,
    parse_ebur128_summary,
    parse_integrated,
    plan_track,
)
from pipelines.plan import EncodePlan
from pipelines.presentation import Presentation
from pipelines.rendition import AudioRendition
from pipelines.runner import RunLimits, run
from pipelines.tools import Tools
from pipelines.tracks import join_track


class SilentAudio(InputRejected):
    """A source audio stream has no loudness above BS.1770's −70 LUFS gate, and normalisation was asked for."""

    code = "audio_silent"


def _measured(argv: list[str], *, timeout: float, cancel: threading.Event | None, parse: Any) -> Loudness:
    result = run(argv, limits=RunLimits(timeout=timeout), cancel=cancel, stderr_lines=80)
    try:
        measured: Loudness = parse(result.stderr_tail)
    except ValueError as exc:
        raise FFmpegFailed(argv, result.returncode, result.stderr_tail,
                           what=f"{argv[0]} printed no loudness measurement ({exc})") from exc
    return measured


# The submit preflight measures a local master's audio for silence up to this long (longer ones: the worker does, in
# pass 1). Measured: the integrated-only meter reads 10 min of AAC stereo in 0.9 s of CPU (670x realtime; with the
# true-peak meter 2.1 s), so an hour costs about 5 s before an upload of gigabytes.
SILENCE_CHECK_MAX_SECONDS = 3600.0


def refuse_silent(plan: EncodePlan, source: Path, *, tools: Tools, cancel: threading.Event | None = None) -> None:
    """SilentAudio (``audio_silent``) when a rendition's source audio is silent and the plan normalises loudness;
    the integrated loudness only (no true peak), one audio-only ffmpeg per rendition. Nothing when the preset is
    ``off``."""
    target = plan.loudness.target
    if target is None:
        return
    for rendition in plan.audio:
        argv = source_loudness_argv(plan, ffmpeg=tools.ffmpeg, source=source, rendition=rendition, true_peak=False)
        result = run(argv, limits=RunLimits(timeout=60 + plan.source.duration), cancel=cancel, stderr_lines=80)
        try:
            integrated = parse_integrated(result.stderr_tail)
        except ValueError as exc:
            raise FFmpegFailed(argv, result.returncode, result.stderr_tail,
                               what=f"{argv[0]} printed no loudness measurement ({exc})") from exc
        if integrated is None:
            raise _silent(source, rendition, target)


def _silent(source: Path, rendition: AudioRendition, target: LoudnessTarget) -> SilentAudio:
    return SilentAudio(
        f"{source}: the audio of rendition {rendition.id} ({rendition.name}, from stream "
        f"{rendition.stream_index}) is silent "
        f"(integrated loudness below −70 LUFS): it cannot be normalised to {target.name} "
        f"{target.integrated:g} LUFS",
        hint="check the master's audio, or publish it as it is with --loudness off")


def measure_plan(plan: EncodePlan, source: Path, *, tools: Tools,
                 cancel: threading.Event | None = None) -> EncodePlan:
    """Pass 1: each audio rendition's source audio measured (one ffmpeg per rendition, audio only), the
    loudnorm mode and gain decided. SilentAudio when a stream is silent and the preset is not ``off``."""
    target = plan.loudness.target
    timeout = 60 + 2 * plan.source.duration
    tracks = []
    for rendition in plan.audio:
        argv = source_loudness_argv(plan, ffmpeg=tools.ffmpeg, source=source, rendition=rendition)
        measured = _measured(argv, timeout=timeout, cancel=cancel, parse=parse_ebur128_summary)
        if measured.silent and target is not None:
            raise _silent(source, rendition, target)
        track = plan_track(rendition.id, measured, target)
        if track.mode == "limited":
            track = _corrected(plan, rendition, track, source, tools=tools, timeout=timeout, cancel=cancel)
        tracks.append(track)
    return dataclasses.replace(plan, loudness=LoudnessPlan(plan.loudness.preset, tuple(tracks)))


def _corrected(plan: EncodePlan, rendition: AudioRendition, track: TrackLoudness, source: Path, *, tools: Tools,
               timeout: float, cancel: threading.Event | None) -> TrackLoudness:
    """A limited rendition's gain, corrected by measuring its whole chain (gain + limiter) on the source and
    adding what is missing, up to MAX_CORRECTIONS passes or until within CORRECTION_LU of the target: the limiter
    takes out the loudness of the peaks it holds down, which the first gain counted on."""
    target = plan.loudness.target
    assert target is not None
    assert track.gain_db is not None
    passes: list[float] = []
    for _ in range(MAX_CORRECTIONS):
        trial = dataclasses.replace(plan, loudness=LoudnessPlan(plan.loudness.preset, (track,)))
        argv = source_loudness_argv(trial, ffmpeg=tools.ffmpeg, source=source, rendition=rendition, normalised=True)
        measured = _measured(argv, timeout=timeout, cancel=cancel, parse=parse_ebur128_summary)
        if measured.integrated is None:
            break
        passes.append(measured.integrated)
        missing = target.integrated - measured.integrated
        if abs(missing) <= CORRECTION_LU:
            break
        track = dataclasses.replace(track, gain_db=round(track.gain_db + missing, 2))
    return dataclasses.replace(track, passes=tuple(passes))


def measure_renditions(root: Path, presentation: Presentation, *, tools: Tools, scratch: Path,
                       cancel: threading.Event | None = None) -> dict[str, Loudness]:
    """Every published audio rendition (init + CMAF segments joined, decoded) through ``ebur128=peak=true``."""
    def one(track: Any) -> tuple[str, Loudness]:
        joined = join_track(root, track, scratch)
        try:
            argv = loudness_meter_argv(tools.ffmpeg, joined)
            return track.id, _measured(argv, timeout=60 + 2 * track.duration, cancel=cancel,
                                       parse=parse_ebur128_summary)
        finally:
            joined.unlink(missing_ok=True)

    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="loudness") as pool:
        return dict(pool.map(one, presentation.audio))


def loudness_report(plan: EncodePlan, presentation: Presentation,
                    outputs: Mapping[str, Loudness]) -> dict[str, Any]:
    """report.json's ``loudness``: the preset and target, and per audio rendition the source stream's
    figures (pass 1), the mode (linear: one gain of gain_db; limited: that gain and a true-peak limiter at
    limiter_dbtp, with the integrated loudness its correction passes measured; dynamic: loudnorm's own), and the
    published rendition's figures (measured on the CMAF output)."""
    target = plan.loudness.target
    tracks = []
    for track in presentation.audio:
        planned = plan.loudness.track(track.id)
        output = outputs.get(track.id)
        tracks.append({
            "id": track.id,
            "source": planned.source.to_dict() if planned else None,
            "mode": planned.mode if planned else "off",
            "gain_db": planned.gain_db if planned else None,
            "limiter_dbtp": planned.limiter_dbtp if planned else None,
            "correction_passes_lufs": list(planned.passes) if planned else [],
            "output": output.to_dict() if output else None,
        })
    return {
        "preset": plan.loudness.preset,
        "target": None if target is None else {"integrated_lufs": target.integrated,
                                               "true_peak_dbtp": target.true_peak,
                                               "tolerance_lu": QC_TOLERANCE_LU},
        "standard": "ITU-R BS.1770-4 / EBU R128",
        "tracks": tracks,
    }
