"""Sync: the A/V offset of a published audio rendition against the master's, measured from decoded sound.

The published audio is compared with the master's audio over one window of the title: both decoded to mono
8 kHz (the master on the title's timeline: its first container timestamp is 0, a late stream padded, as the
encode does; the rendition from tfdt 0, as a player presents it), reduced to 1 ms loudness envelopes, and the lag
that best lines them up is found by normalised cross-correlation within ±LAG_MS. The picture is moved onto the
output frame grid by `EncodePlan.picture_shift` (its start and every keyframe are checked elsewhere), so the audio
must be late by exactly that: lag − picture_shift is the A/V offset the encode added (the AAC priming, uncompensated,
measures +21.3 ms). A steady signal (a constant tone, silence) has no envelope to line up: the check then passes
and says it could not measure.

``envelope``/``best_lag`` are pure; ``decode_window`` is the effect (ffmpeg through the runner).
"""

from __future__ import annotations

import array
import math
import operator
import threading
from dataclasses import dataclass
from pathlib import Path

from pipelines.errors import CheckResult
from pipelines.ffmpeg import demuxer_for
from pipelines.formats import FORMAT_WHITELIST
from pipelines.qc.verdict import verdict
from pipelines.runner import RunLimits, run
from pipelines.tools import Tools

RATE = 8000  # Hz: the decoded mono rate; 8 samples per 1 ms envelope bin
BIN = RATE // 1000
WINDOW_SECONDS = 8.0
LAG_MS = 60  # ±: a wrong offset beyond this is not sync drift but a broken timeline (start/duration checks)
MIN_CONTRAST = 0.05  # envelope standard deviation / mean below this: a steady signal, nothing to line up
MIN_CORRELATION = 0.5  # the best lag's normalised correlation below this: no confident match
AMBIGUITY = 0.1  # a second local peak this close to the best one: the lag is ambiguous
DECODE_TIMEOUT = 120.0


@dataclass(frozen=True)
class Lag:
    ms: int | None  # how late the rendition's sound is against the master's (ms); None: not measurable
    correlation: float
    why: str = ""


def envelope(pcm: bytes) -> list[float]:
    """s16le mono at RATE → mean absolute level per 1 ms bin."""
    samples = array.array("h", pcm[: len(pcm) // 2 * 2])
    return [sum(abs(x) for x in samples[i:i + BIN]) / BIN for i in range(0, len(samples) - BIN + 1, BIN)]


def best_lag(master: list[float], rendition: list[float], max_lag: int = LAG_MS) -> Lag:
    """The lag (bins) at which `rendition` best matches `master` delayed by it (normalised cross-correlation over
    the bins both cover at every lag)."""
    usable = min(len(master), len(rendition)) - 2 * max_lag
    if usable < 200:
        return Lag(None, 0.0, f"only {max(usable, 0)} ms of sound to compare")
    reference = master[max_lag:max_lag + usable]
    mean = sum(reference) / usable
    ref = [x - mean for x in reference]
    ref_norm = math.sqrt(sum(x * x for x in ref))
    if mean <= 0 or ref_norm / math.sqrt(usable) < MIN_CONTRAST * mean:
        return Lag(None, 0.0, "the master's sound is steady in the window (no envelope to line up)")
    # the reference is centred, so sum(ref * (w - mean_w)) = sum(ref * w); window norms from prefix sums
    sums, squares = [0.0], [0.0]
    for x in rendition:
        sums.append(sums[-1] + x)
        squares.append(squares[-1] + x * x)
    scores: dict[int, float] = {}
    for lag in range(-max_lag, max_lag + 1):
        first = max_lag + lag
        total = sums[first + usable] - sums[first]
        spread = squares[first + usable] - squares[first] - total * total / usable
        if spread > 0:
            scores[lag] = sum(map(operator.mul, ref, rendition[first:first + usable])) / (ref_norm * math.sqrt(spread))
    if not scores:
        return Lag(None, 0.0, "the published sound is steady in the window")
    best = max(scores, key=lambda lag: scores[lag])
    best_score = scores[best]
    if best_score < MIN_CORRELATION:
        return Lag(None, best_score, f"no confident match (best correlation {best_score:.2f})")
    # a periodic envelope (a steady tone beating against the 1 ms bins, AAC frame artefacts) correlates almost as
    # well at other lags: a second peak within AMBIGUITY of the best means the lag is not known
    peaks = [lag for lag, score in scores.items() if abs(lag - best) > 2
             and score >= scores.get(lag - 1, -2.0) and score >= scores.get(lag + 1, -2.0)]
    rival = max((scores[lag] for lag in peaks), default=-2.0)
    if rival > best_score - AMBIGUITY:
        return Lag(None, best_score, f"the sound's envelope is periodic: peaks at {best} and other lags "
                                     f"({best_score:.2f} vs {rival:.2f})")
    return Lag(best, best_score)


def window_start(title_seconds: float) -> float:
    """Where the compared window starts: the middle of the title (its first seconds are often silence)."""
    return max(0.0, title_seconds / 2 - WINDOW_SECONDS / 2)


def decode_argv(ffmpeg: str, media: Path, *, stream: str, start: float, demuxer: str | None) -> list[str]:
    """WINDOW_SECONDS of one audio stream from `start` (seconds from the file's first timestamp; late audio padded
    from there, as the encode does) as s16le mono RATE on stdout."""
    pinned = ["-f", demuxer_for(demuxer), "-format_whitelist", FORMAT_WHITELIST] if demuxer else []
    return [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-protocol_whitelist", "file", *pinned,
            "-i", f"file:{media.resolve()}", "-map", stream,
            "-af", f"aresample={RATE}:async=1:first_pts=0,atrim=start={start:.6f}:duration={WINDOW_SECONDS}",
            "-ac", "1", "-f", "s16le", "-"]


def decode_window(ffmpeg: str, media: Path, *, stream: str, start: float, demuxer: str | None,
                  cancel: threading.Event | None = None) -> list[float]:
    result = run(decode_argv(ffmpeg, media, stream=stream, start=start, demuxer=demuxer),
                 limits=RunLimits(timeout=DECODE_TIMEOUT, max_stdout_bytes=int(WINDOW_SECONDS * RATE * 2) + 65536),
                 cancel=cancel)
    return envelope(result.stdout)


def measure_lag(tools: Tools, source: Path, source_format: str, stream_index: int, rendition: Path, *,
                title_seconds: float, cancel: threading.Event | None = None) -> Lag:
    """How late (ms) the rendition's sound is against the master's stream `stream_index`, on the title's timeline."""
    start = window_start(title_seconds)
    master = decode_window(tools.ffmpeg, source, stream=f"0:{stream_index}", start=start, demuxer=source_format,
                           cancel=cancel)
    published = decode_window(tools.ffmpeg, rendition, stream="0:a:0", start=start, demuxer=None, cancel=cancel)
    return best_lag(master, published)


def check_offset(name: str, lag: Lag, picture_shift: float, tolerance: float) -> CheckResult:
    """The rendition's A/V offset against the master's: lag − the picture's shift, within `tolerance` seconds."""
    if lag.ms is None:
        return verdict(name, [], f"not measured: {lag.why}")
    added = lag.ms / 1000 - picture_shift
    problems = [] if abs(added) <= tolerance else [
        f"the sound is {added * 1000:+.1f} ms off against the picture compared with the master (allowed "
        f"±{tolerance * 1000:.1f} ms)"]
    return verdict(name, problems, f"A/V offset vs the master {added * 1000:+.1f} ms (sound late by {lag.ms} ms, the "
                                   f"picture by {picture_shift * 1000:.1f} ms; correlation {lag.correlation:.2f}, "
                                   f"±{tolerance * 1000:.1f} ms)")
