"""A tiny CEA-608 *encoder* for tests: known captions → byte pairs → SCC text or H.264/HEVC A/53 SEI.

Independent of pipelines.captions (which only reads). Pop-on captions are sent as broadcast encoders send
them: RCL RCL, ENM ENM, then per row a PAC (row 14/15, column 0) doubled and the text, then EOC EOC with
the first EOC on the caption's start frame (a decoder flips its buffers there); EDM EDM on the end frame
clears it. Roll-up (RU2 RU2 CR CR PAC PAC text) and paint-on (RDC RDC PAC PAC text) lines start at their
frame. Characters are 7-bit with odd parity; control codes of data channel 1 start 0x14 in field 1 (CC1)
and 0x15 in field 2 (CC3); PACs for rows 14/15 start 0x14 in both fields.

Embedded route (documented in tests/mediagen.py): x264/x265 write Annex B with an access unit delimiter
per picture and no B-frames (decode order = display order); before each picture's first slice we insert
an SEI NAL (H.264 type 6, HEVC prefix SEI type 39), payload type 4 (user_data_registered_itu_t_t35):
country 0xB5, provider 0x0031, "GA94", type 0x03, cc_count 2 triplets (field 1, field 2; 0x80 0x80 when
idle) (ATSC A/53 Part 4), with emulation prevention; then ffmpeg copies the stream into MP4.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

PAD = 0x8080


def parity(byte: int) -> int:
    return byte | 0x80 if bin(byte).count("1") % 2 == 0 else byte


def word(first: int, second: int) -> int:
    return parity(first) << 8 | parity(second)


def text_words(text: str) -> list[int]:
    codes = [ord(c) for c in text]
    if len(codes) % 2:
        codes.append(0)
    return [word(codes[i], codes[i + 1]) for i in range(0, len(codes), 2)]


def popon(captions: Sequence[tuple[int, int, Sequence[str]]], *, field: int = 1, channel: int = 1) -> dict[int, int]:
    """{frame: word} for pop-on captions (start frame, end frame, rows of text) of data channel `channel` (1: CC1
    or CC3, 2: CC2 or CC4: control codes with bit 3 of the first byte set, CEA-608 §3)."""
    second = 0x08 if channel == 2 else 0
    misc = (0x14 if field == 1 else 0x15) | second
    frames: dict[int, int] = {}
    for start, end, rows in captions:
        sequence = [word(misc, 0x20)] * 2 + [word(misc, 0x2E)] * 2
        for number, row in enumerate(rows):
            pac = 0x50 if len(rows) - number == 2 else 0x70  # row 14 or row 15, column 0, white
            sequence += [word(0x14 | second, pac)] * 2 + text_words(row)
        first = start - len(sequence)
        if any(frame in frames for frame in range(first, end + 2)):
            raise ValueError(f"caption at frame {start} overlaps the previous one's codes")
        for offset, code in enumerate(sequence):
            frames[first + offset] = code
        frames[start] = frames[start + 1] = word(misc, 0x2F)  # EOC: shown from `start`
        frames[end] = frames[end + 1] = word(misc, 0x2C)  # EDM: cleared from `end`
    return frames


def merge(*channels: dict[int, int]) -> dict[int, int]:
    """The words of several channels of one field on one timeline; raises ValueError where two want a frame."""
    merged: dict[int, int] = {}
    for frames in channels:
        taken = merged.keys() & frames.keys()
        if taken:
            raise ValueError(f"two channels send on frames {sorted(taken)[:5]}")
        merged.update(frames)
    return merged


def timecode(frame: int, *, drop_frame: bool) -> str:
    """The SMPTE label of a 29.97 frame (drop-frame: ;00 and ;01 skipped each minute but every tenth)."""
    if drop_frame:
        tens, rest = divmod(frame, 17982)
        frame += 18 * tens + (2 * ((rest - 2) // 1798) if rest >= 2 else 0)
    seconds, frames = divmod(frame, 30)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{';' if drop_frame else ':'}{frames:02d}"


def scc_text(frames: dict[int, int], *, drop_frame: bool) -> str:
    """An SCC file: one line per run of consecutive frames, at the run's first frame's label."""
    runs: list[tuple[int, list[int]]] = []
    for frame in sorted(frames):
        if runs and frame == runs[-1][0] + len(runs[-1][1]):
            runs[-1][1].append(frames[frame])
        else:
            runs.append((frame, [frames[frame]]))
    lines = ["Scenarist_SCC V1.0", ""]
    for start, words in runs:
        lines += [timecode(start, drop_frame=drop_frame) + "\t" + " ".join(f"{w:04x}" for w in words), ""]
    return "\n".join(lines) + "\n"


def dtvcc_packets(services: dict[int, str | bytes], *, sequence: int = 0) -> list[tuple[int, int, int]]:
    """One CEA-708 DTVCC packet holding service blocks per service (number → G0 text, or service data bytes as
    `cea708_text` / `cea708_popon` write them; split into blocks of at most 31 bytes; numbers 7-63 with the
    extended header), as A/53 cc_data triplets (cc_type 3 for the packet's first byte pair, 2 after;
    CEA-708 §5, §6.2)."""
    body = b""
    for number, text in services.items():
        data = text.encode("ascii") if isinstance(text, str) else text
        for chunk in _blocks(data):
            header = bytes([number << 5 | len(chunk)]) if number < 7 else bytes([7 << 5 | len(chunk), number])
            body += header + chunk
    size_code = (len(body) + 2) // 2  # the header byte plus the blocks, in byte pairs (rounded up)
    packet = bytes([(sequence & 3) << 6 | size_code]) + body
    packet += b"\x00" * (size_code * 2 - len(packet))
    return [(3 if at == 0 else 2, packet[at], packet[at + 1]) for at in range(0, len(packet), 2)]


def _blocks(data: bytes) -> list[bytes]:
    """Service data cut into block payloads of at most 31 bytes, never inside a command or character
    (CEA-708 §6.3: a command's bytes stay in one service block)."""
    c1 = {**dict.fromkeys(range(128, 136), 0), **dict.fromkeys(range(136, 142), 1), 0x90: 2, 0x91: 3, 0x92: 2,
          0x97: 4, **dict.fromkeys(range(152, 160), 6)}
    atoms, at = [], 0
    while at < len(data):
        code = data[at]
        size = (2 if code == 0x10 else 2 if 0x11 <= code <= 0x17 else 3 if 0x18 <= code <= 0x1F
                else 1 + c1.get(code, 0))
        atoms.append(data[at:at + size])
        at += size
    blocks: list[bytes] = [b""]
    for atom in atoms:
        if len(blocks[-1]) + len(atom) > 31:
            blocks.append(b"")
        blocks[-1] += atom
    return [b for b in blocks if b]


def cea708_text(text: str) -> bytes:
    """Text as CEA-708 service data: G0 (ASCII; "♪" is 0x7F), G1 (Latin-1), a few G2 characters after EXT1,
    anything else as P16; "\n" is CR (CEA-708 §7.1)."""
    g2 = {"\u2026": 0x25, "\u0160": 0x2A, "\u0152": 0x2C, "\u2122": 0x39, "\u0153": 0x3C, "\u2022": 0x35,
          "\u201c": 0x33, "\u201d": 0x34, "\u0178": 0x3F}
    out = bytearray()
    for char in text:
        code = ord(char)
        if char == "\n":
            out.append(0x0D)
        elif char == "\u266a":
            out.append(0x7F)
        elif 0x20 <= code < 0x7F or 0xA0 <= code <= 0xFF:
            out.append(code)
        elif char in g2:
            out += bytes([0x10, g2[char]])
        else:
            out += bytes([0x18, code >> 8, code & 0xFF])
    return bytes(out)


def define_window(window: int, *, rows: int, visible: bool = False, columns: int = 32, anchor_row: int = 70
                  ) -> bytes:
    """DefineWindow DFn (CEA-708 §8.10.5.2): not relative, anchored at `anchor_row` of 75, column 10, anchor
    point 7 (lower left), `rows` × `columns`, window style 1, pen style 1."""
    return bytes([0x98 + window, (0x20 if visible else 0) | 0x18, anchor_row, 10, 0x70 | (rows - 1),
                  columns - 1, 0x09])


def cea708_popon(captions: Sequence[tuple[int, int, Sequence[str]]], *, window: int = 0) -> dict[int, bytes]:
    """{frame: service data} for pop-on captions (start frame, end frame, rows) of one service: a hidden window
    defined and filled 3 frames before the start, DisplayWindows (DSW) on the start frame, DeleteWindows (DLW)
    on the end frame."""
    frames: dict[int, bytes] = {}
    bit = bytes([1 << window])
    for start, end, rows in captions:
        frames[start - 3] = (define_window(window, rows=len(rows)) + bytes([0x88]) + bit
                             + cea708_text("\n".join(rows)))
        frames[start] = bytes([0x89]) + bit
        frames[end] = bytes([0x8C]) + bit
    return frames


def cea708_rollup(lines: Sequence[tuple[int, str]], *, end: int, rows: int = 2, window: int = 0
                  ) -> dict[int, bytes]:
    """{frame: service data} for roll-up captions of one service: a visible window of `rows` rows defined the frame
    before the first line; each line's first half at its frame, the rest and CR two frames later (the rows
    scroll up on the last row); ClearWindows (CLW) at `end`."""
    frames = {lines[0][0] - 1: define_window(window, rows=rows, visible=True)}
    for frame, text in lines:
        half = len(text) // 2
        frames[frame] = frames.get(frame, b"") + cea708_text(text[:half])
        frames[frame + 2] = cea708_text(text[half:] + "\n")
    frames[end] = bytes([0x88, 1 << window])
    return frames


def dtvcc_frames(services: dict[int, dict[int, bytes]]) -> dict[int, list[tuple[int, int, int]]]:
    """{picture: DTVCC triplets} carrying several services' {frame: service data} (one packet per picture,
    the sequence number counting up), for `insert_a53`'s `dtvcc`."""
    pictures = sorted({frame for frames in services.values() for frame in frames})
    return {frame: dtvcc_packets({n: frames[frame] for n, frames in services.items() if frame in frames},
                                 sequence=count)
            for count, frame in enumerate(pictures)}


def _sei(field1: int, field2: int, *, hevc: bool = False, dtvcc: Sequence[tuple[int, int, int]] = ()) -> bytes:
    body = bytes([0xB5, 0x00, 0x31]) + b"GA94" + bytes([0x03, 0x40 | (2 + len(dtvcc)), 0xFF])
    body += bytes([0xFC, field1 >> 8, field1 & 0xFF, 0xFD, field2 >> 8, field2 & 0xFF])
    for cc_type, first, second in dtvcc:
        body += bytes([0xF8 | 0x04 | cc_type, first, second])
    body += b"\xff"
    payload = bytes([4, len(body)]) + body + b"\x80"
    escaped = bytearray()
    zeros = 0
    for byte in payload:
        if zeros >= 2 and byte <= 3:
            escaped.append(3)
            zeros = 0
        escaped.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    header = bytes([39 << 1, 1]) if hevc else b"\x06"  # HEVC prefix SEI (type 39, layer 0, tid 1) / H.264 SEI
    return b"\x00\x00\x00\x01" + header + bytes(escaped)


def insert_a53(annexb: bytes, field1: dict[int, int], field2: dict[int, int], *, hevc: bool = False,
               dtvcc: dict[int, list[tuple[int, int, int]]] | None = None) -> bytes:
    """The H.264 (or HEVC) stream with an A/53 caption SEI before every picture's first slice (no B-frames);
    `dtvcc`: {picture: CEA-708 triplets} sent beside that picture's 608 pairs."""
    starts = [m.end() for m in re.finditer(b"\x00\x00\x01", annexb)]
    out = bytearray()
    picture = 0
    for number, start in enumerate(starts):
        end = starts[number + 1] - 3 if number + 1 < len(starts) else len(annexb)
        unit = annexb[start:end].rstrip(b"\x00") if number + 1 < len(starts) else annexb[start:end]
        first_slice = (len(unit) > 2 and (unit[0] >> 1) & 0x3F < 32 and unit[2] & 0x80) if hevc else (
            unit and unit[0] & 0x1F in (1, 5))  # a picture's first slice (x264 writes one slice per picture)
        if first_slice:
            out += _sei(field1.get(picture, PAD), field2.get(picture, PAD), hevc=hevc,
                        dtvcc=(dtvcc or {}).get(picture, ()))
            picture += 1
        out += b"\x00\x00\x00\x01" + unit
    return bytes(out)


def direct(captions: Sequence[tuple[int, str]], *, mode: str, end: int, field: int = 1) -> dict[int, int]:
    """Roll-up (mode "rollup": RU2 RU2 CR CR PAC PAC text per line) or paint-on ("painton": RDC RDC PAC PAC
    text) lines, each starting at its frame; EDM EDM at `end` clears the screen."""
    misc = 0x14 if field == 1 else 0x15
    frames: dict[int, int] = {}
    for start, text in captions:
        head = [word(misc, 0x25)] * 2 + [word(misc, 0x2D)] * 2 if mode == "rollup" else [word(misc, 0x29)] * 2
        for offset, code in enumerate([*head, *[word(0x14, 0x70)] * 2, *text_words(text)]):
            frames[start + offset] = code
    frames[end] = frames[end + 1] = word(misc, 0x2C)
    return frames
