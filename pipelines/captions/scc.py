"""SCC (Scenarist Closed Caption) files and the CEA-608 byte pairs they carry. Pure.

An SCC file is ``Scenarist_SCC V1.0`` then lines ``HH:MM:SS;FF<TAB>9420 9420 94ae …``: each 4-hex-digit
word is one 608 byte pair (odd parity) sent in one frame, from the line's timecode on. ``parse_scc`` turns
that into frame-exact (frame, word) pairs; ``channel_words`` keeps one caption channel of a field;
``render_ndf`` writes timed pairs back as SCC with non-drop labels (exact frame counts) for the decoder.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from fractions import Fraction
from pathlib import Path

from pipelines.captions.timecode import NTSC_FPS, frame_of, frame_seconds
from pipelines.errors import SubtitleRejected

HEADER = "Scenarist_SCC V1.0"
CODE = "caption_scc_invalid"
HINT = ("export the captions again as SCC (Scenarist_SCC V1.0, 29.97 fps timecode, 4-digit hex words), "
        "or as SRT/WebVTT/TTML")
_LINE = re.compile(r"^(\d{2}):(\d{2}):(\d{2})([:;.,])(\d{2})\s+(.*)$")
_WORD = re.compile(r"^[0-9a-fA-F]{4}$")


def is_scc(text: str, suffix: str = "") -> bool:
    """Whether a sidecar is SCC: its first line is the SCC header, or its name ends in .scc."""
    first = text.lstrip("\ufeff").lstrip().split("\n", 1)[0].strip()
    return first.startswith("Scenarist_SCC") or suffix.lower() == ".scc"


def is_scc_file(path: Path) -> bool:
    """Whether a sidecar on disk is SCC (by name, or by its first bytes)."""
    if path.suffix.lower() == ".scc":
        return True
    try:
        with path.open("rb") as handle:
            head = handle.read(64)
    except OSError:
        return False  # the subtitle loader reports unreadable files
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"Scenarist_SCC")


def _bad(source: str, what: str) -> SubtitleRejected:
    return SubtitleRejected(source, what, hint=HINT, code=CODE)


def parse_scc(text: str, *, source: str) -> list[tuple[int, int]]:
    """(frame, word) for every byte pair, in time order; raises SubtitleRejected(code="caption_scc_invalid")
    naming the line for a missing header, a malformed or non-existent timecode, a word that is not four hex
    digits, or a line that starts before the previous line's pairs have been sent."""
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    first = next((n for n, line in enumerate(lines) if line.strip()), None)
    if first is None or lines[first].strip() != HEADER:
        shown = lines[first].strip()[:40] if first is not None else "empty"
        raise _bad(source, f"line {(first or 0) + 1} is {shown!r}, not the SCC header {HEADER!r}")
    pairs: list[tuple[int, int]] = []
    next_free = 0
    for number, raw in enumerate(lines[first + 1:], start=first + 2):
        line = raw.strip()
        if not line:
            continue
        match = _LINE.match(line)
        if match is None:
            raise _bad(source, f"line {number} does not start with a timecode HH:MM:SS:FF or HH:MM:SS;FF: "
                               f"{line[:40]!r}")
        hours, minutes, seconds, separator, frames, body = match.groups()
        try:
            frame = frame_of(int(hours), int(minutes), int(seconds), int(frames), drop_frame=separator in ";,")
        except ValueError as exc:
            raise _bad(source, f"line {number}: timecode {line[:11]} does not exist ({exc})") from exc
        if frame < next_free:
            raise _bad(source, f"line {number}: timecode {line[:11]} is before the previous line's last pair "
                               f"was sent (frame {frame} < {next_free}); every pair takes one frame")
        words = body.split()
        for offset, word in enumerate(words):
            if not _WORD.match(word):
                raise _bad(source, f"line {number}: {word[:12]!r} is not a 608 byte pair (4 hex digits)")
            pairs.append((frame + offset, int(word, 16)))
        next_free = frame + len(words)
    if not pairs:
        raise _bad(source, "no caption data after the header")
    return pairs


def channel_words(words: Iterable[tuple[Fraction, int]], channel: int) -> list[tuple[Fraction, int]]:
    """The pairs of data channel `channel` (1 or 2) of one field: a control pair (first byte 0x10-0x1F,
    parity stripped) selects its channel by bit 3 (CEA-608 §3: 0x14 CC1/CC3, 0x1C CC2/CC4); characters
    belong to the channel last selected; padding (0x80 0x80) is dropped."""
    kept = []
    current = 0
    for time, word in words:
        high, low = (word >> 8) & 0x7F, word & 0x7F
        if high == 0 and low == 0:
            continue
        if 0x10 <= high <= 0x1F:
            current = 2 if high & 0x08 else 1
        if current == channel:
            kept.append((time, word))
    return kept


def _ndf_label(frame: int) -> str:
    seconds, frames = divmod(frame, 30)
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}:{frames:02d}"


def _odd(byte: int) -> int:
    return byte | 0x80 if bin(byte).count("1") % 2 == 0 else byte


def _as_channel_1(word: int) -> int:
    """A control pair of data channel 2 (first byte 0x18-0x1F: CC2/CC4) as its data channel 1 twin (0x10-0x17),
    and a field-2 miscellaneous control code (0x15 0x20-0x2F: CC3/CC4) as its field-1 twin (0x14), so a decoder
    that reads CC1 reads any channel (odd parity recomputed; CEA-608-E §8.4, Table 52)."""
    high, low = (word >> 8) & 0x7F, word & 0x7F
    if 0x18 <= high <= 0x1F:
        high -= 0x08
    if high == 0x15 and 0x20 <= low <= 0x2F:
        high = 0x14
    if high == (word >> 8) & 0x7F:
        return word
    return _odd(high) << 8 | (word & 0xFF)


def render_ndf(words: Sequence[tuple[Fraction, int]]) -> str:
    """SCC text (non-drop labels, exact frames) of timed pairs: each pair goes on the 29.97 frame nearest its
    time (runs of consecutive frames share a line); a pair whose frame is taken moves to the next free one."""
    runs: list[tuple[int, list[int]]] = []
    next_free = 0
    for time, word in words:
        frame = max(next_free, round(time * NTSC_FPS))
        if runs and frame == runs[-1][0] + len(runs[-1][1]):
            runs[-1][1].append(_as_channel_1(word))
        else:
            runs.append((frame, [_as_channel_1(word)]))
        next_free = frame + 1
    lines = [HEADER, ""]
    for start, run in runs:
        lines += [_ndf_label(start) + "\t" + " ".join(f"{w:04x}" for w in run), ""]
    return "\n".join(lines) + "\n"


def timed(pairs: Iterable[tuple[int, int]]) -> list[tuple[Fraction, int]]:
    """(frame, word) → (seconds, word) on the 29.97 grid."""
    return [(frame_seconds(frame), word) for frame, word in pairs]
