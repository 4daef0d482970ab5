"""CEA-708 (CTA-708-E) caption text: DTVCC packets → service blocks → each service's windows → timed cues. Pure.

    Cea708Decoder().feed(time, cc_type, byte1, byte2)   one valid A/53 DTVCC triplet (cc_type 2/3) at its
                                                        picture's time (seconds, Fraction)
    Cea708Decoder.finish(end)                           → {service number: [Caption708]} (cues still on screen
                                                        end at `end`); `.skipped` counts bad data by kind

Packets (CTA-708-E §5): a header byte (sequence 2 bits, packet_size_code 6 bits: ``code × 2`` bytes, 128 for 0),
then service blocks (§6.2): header (service_number 3 bits, block_size 5 bits; number 7 takes an extended number
1-63 from the next byte), block_size bytes. Service 0 pads the rest of a packet.

Service data (§7.1, Tables 3-6): C0 0x00-0x1F (ETX, BS, FF, CR, HCR; EXT1 0x10 opens the extended sets;
0x11-0x17 take one parameter byte, 0x18-0x1F two, 0x18 being P16, a 16-bit character), G0 0x20-0x7F (ASCII, 0x7F
the music note), C1 0x80-0x9F (window and pen commands with fixed parameter counts, §8.10), G1 0xA0-0xFF
(ISO 8859-1). After EXT1: C2 0x00-0x1F (0-3 parameter bytes), G2 0x20-0x7F (Table 8), C3 0x80-0x9F (4, 5 or a
counted number of bytes), G3 0xA0-0xFF (only 0xA0, the [CC] icon). Commands vodfleet does not render (pen
attributes and colours, window attributes) are consumed with their parameter bytes.

Window model (§8.4, simplified to text): eight windows per service, each with rows of characters and a pen.
Text goes to the current window (text with no window defined is dropped, as a decoder does). A cue is the
window's text while it is visible: it begins when a window with text is shown (DSW, TGW, DefineWindow with the
visible bit) and ends when the window is hidden, cleared, deleted or its shown text changes. Text written into a
visible window (roll-up, paint-on) is committed by CR, HCR, FF, ETX and the window commands (CLW, DSW, HDW, TGW,
DLW, RST, DefineWindow), shown from the time its first character came, so a roll-up caption changes once per
line rather than per character; CR commits the finished line, then on the last row scrolls the rows up (the
emptied last row is committed with the next line). Pen commands (SPA, SPC, SPL, SWA) commit nothing. DLY holds the
service's following commands back by its tenths of a second until DLC.

Not rendered (consumed with their bytes): pen attributes and colours (SPA, SPC: italics, underline, sizes,
fonts, edges), window attributes (SWA: justification, print and scroll direction, word wrap, fill, borders,
display effects), window priorities, row/column locks and anchor points beyond a ``line`` percent, C2/C3
extended commands (counted as ``unsupported_command``), G2/G3 characters without a Unicode counterpart in
`G2`/`G3` (counted as ``unknown_character``), and text that would overflow a window's columns (kept on its
row: WebVTT wraps it). A window deleted while another covers it is not modelled: each visible window is a cue.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction

from pipelines.captions.dtvcc import service_blocks

PACKET_START, PACKET_DATA = 3, 2

# C1 command → parameter bytes (CTA-708-E §8.10, Table 5); 0x93-0x96 are reserved and take none
C1_PARAMS = {**dict.fromkeys(range(128, 136), 0), 0x88: 1, 0x89: 1, 0x8A: 1, 0x8B: 1, 0x8C: 1, 0x8D: 1,
             0x8E: 0, 0x8F: 0, 0x90: 2, 0x91: 3, 0x92: 2, 0x93: 0, 0x94: 0, 0x95: 0, 0x96: 0, 0x97: 4,
             **dict.fromkeys(range(152, 160), 6)}
CW0, CLW, DSW, HDW, TGW, DLW, DLY, DLC, RST, SPL, DF0 = 0x80, 0x88, 0x89, 0x8A, 0x8B, 0x8C, 0x8D, 0x8E, 0x8F, 0x92, 0x98
WINDOW_CHANGES = frozenset({CLW, DSW, HDW, TGW, DLW, RST, *range(DF0, DF0 + 8)})  # what a viewer sees change
ETX, BS, FF, CR, HCR, EXT1, P16 = 0x03, 0x08, 0x0C, 0x0D, 0x0E, 0x10, 0x18

# G2 (CTA-708-E Table 8) as Unicode; box drawing as the nearest Unicode box characters
G2 = {0x20: " ", 0x21: "\u00a0", 0x25: "\u2026", 0x2A: "\u0160", 0x2C: "\u0152", 0x30: "\u2588", 0x31: "\u2018",
      0x32: "\u2019", 0x33: "\u201c", 0x34: "\u201d", 0x35: "\u2022", 0x39: "\u2122", 0x3A: "\u0161",
      0x3C: "\u0153", 0x3D: "\u2120", 0x3F: "\u0178", 0x76: "\u215b", 0x77: "\u215c", 0x78: "\u215d",
      0x79: "\u215e", 0x7A: "\u2502", 0x7B: "\u2510", 0x7C: "\u2514", 0x7D: "\u2500", 0x7E: "\u2518",
      0x7F: "\u250c"}
G3 = {0xA0: "[CC]"}  # the closed-caption icon, as text
MUSIC_NOTE = "\u266a"
MAX_ROWS, MAX_COLUMNS = 15, 42  # §8.4.6: at most 15 rows and 42 columns (16:9)


@dataclass(frozen=True)
class Caption708:
    """One cue of a service: seconds (as fed), its text (rows joined by "\\n"), and where the window is anchored
    (vertical and horizontal, percent of the screen; None when unknown)."""

    start: Fraction
    end: Fraction
    text: str
    line: float | None = None
    position: float | None = None


@dataclass
class _Window:
    rows: int = 1
    columns: int = 32
    visible: bool = False
    line: float | None = None
    position: float | None = None
    text: list[list[str]] = field(default_factory=lambda: [[]])
    pen_row: int = 0
    pen_column: int = 0
    shown: str = ""  # the text on screen as a cue now ("" when none)
    since: Fraction = Fraction(0)
    pending: Fraction | None = None  # when text not yet committed was first written into the visible window

    def visible_text(self) -> str:
        if not self.visible:
            return ""
        lines = ["".join(row).strip() for row in self.text]
        return "\n".join(line for line in lines if line)

    def clear(self) -> None:
        self.text = [[] for _ in range(self.rows)]
        self.pen_row = self.pen_column = 0

    def put(self, char: str) -> None:
        row = self.text[self.pen_row]
        while len(row) < self.pen_column:
            row.append(" ")
        if self.pen_column < len(row):
            row[self.pen_column] = char
        else:
            row.append(char)
        self.pen_column = min(self.pen_column + 1, MAX_COLUMNS)

    def carriage_return(self) -> None:
        self.pen_column = 0
        if self.pen_row + 1 < self.rows:
            self.pen_row += 1
        else:  # roll up (§8.4.8: the window scrolls when the pen would leave its last row)
            self.text = [*self.text[1:], []]


class _Service:
    def __init__(self, number: int, skipped: Counter[str]) -> None:
        self.number = number
        self.windows: dict[int, _Window] = {}
        self.current: int | None = None
        self.delay_until = Fraction(0)
        self.cues: list[Caption708] = []
        self.skipped = skipped
        self._now = Fraction(0)

    # --- cues
    def sync(self, time: Fraction) -> None:
        for window in self.windows.values():
            self._sync(window, time)

    def _sync(self, window: _Window, time: Fraction) -> None:
        """Make the window's cue match its visible text: text written while it was visible is committed at the
        time its first character came (`pending`), any other change at `time`."""
        if window.pending is not None:
            time, window.pending = window.pending, None
        now = window.visible_text()
        if now == window.shown:
            return
        if window.shown and time > window.since:
            self.cues.append(Caption708(window.since, time, window.shown, window.line, window.position))
        window.shown, window.since = now, time

    def finish(self, end: Fraction) -> None:
        for window in self.windows.values():
            self._sync(window, end)
            window.visible = False
            self._sync(window, max(end, window.since))

    # --- service data
    def decode(self, data: bytes, time: Fraction) -> None:
        at = 0
        while at < len(data):
            now = self._now = max(time, self.delay_until)
            code = data[at]
            if code < 0x20:
                at = self._c0(data, at, now)
            elif code < 0x80:
                self._char(MUSIC_NOTE if code == 0x7F else chr(code))
                at += 1
            elif code < 0xA0:
                at = self._c1(data, at, now)
            else:
                self._char(chr(code))  # G1: ISO 8859-1
                at += 1

    def _window(self) -> _Window | None:
        return self.windows.get(self.current) if self.current is not None else None

    def _char(self, char: str) -> None:
        window = self._window()
        if window is None:
            self.skipped["text_without_window"] += 1
            return
        if window.visible and window.pending is None:
            window.pending = self._now
        window.put(char)

    def _c0(self, data: bytes, at: int, now: Fraction) -> int:
        code = data[at]
        if code == EXT1:
            return self._ext1(data, at + 1)
        size = 3 if code >= 0x18 else 2 if code >= 0x11 else 1  # 0x11-0x17: one parameter byte, 0x18-0x1F: two
        if at + size > len(data):
            self.skipped["truncated_command"] += 1
            return len(data)
        if code == P16:
            value = data[at + 1] << 8 | data[at + 2]
            if value >= 0x20 and not 0xD800 <= value <= 0xDFFF:
                self._char(chr(value))
        elif size == 1:
            self._control(code, now)
        return at + size

    def _control(self, code: int, now: Fraction) -> None:
        """ETX, BS, FF, CR, HCR (§7.1.4); the other one-byte C0 codes do nothing."""
        window = self._window()
        if window is not None and code in (ETX, FF, CR, HCR):
            self._sync(window, now)  # what was written before the clear or carriage return is shown first
        if window is not None:
            if code == BS:
                row = window.text[window.pen_row]
                if window.pen_column > 0:
                    window.pen_column -= 1
                    del row[window.pen_column:window.pen_column + 1]
            elif code == FF:
                window.clear()
            elif code == CR:  # the finished line was committed above, before the rows scroll
                window.carriage_return()
                return
            elif code == HCR:
                window.text[window.pen_row] = []
                window.pen_column = 0
        if code in (ETX, FF, CR, HCR):
            self.sync(now)

    def _ext1(self, data: bytes, at: int) -> int:
        if at >= len(data):
            self.skipped["truncated_command"] += 1
            return len(data)
        code = data[at]
        if code < 0x20:  # C2: 0x00-0x07 none, 0x08-0x0F one, 0x10-0x17 two, 0x18-0x1F three bytes
            extra = code >> 3
        elif code < 0x80:
            char = G2.get(code)
            if char is None:
                self.skipped["unknown_character"] += 1
            else:
                self._char(char)
            extra = 0
        elif code < 0x88:
            extra = 4
        elif code < 0x90:
            extra = 5
        elif code < 0xA0:  # variable length: the next byte's low 5 bits count the bytes after it
            if at + 1 >= len(data):
                self.skipped["truncated_command"] += 1
                return len(data)
            self.skipped["unsupported_command"] += 1
            extra = 1 + (data[at + 1] & 0x1F)
        else:
            char = G3.get(code)
            if char is None:
                self.skipped["unknown_character"] += 1
            else:
                self._char(char)
            extra = 0
        if at + 1 + extra > len(data):
            self.skipped["truncated_command"] += 1
            return len(data)
        if 0x80 <= code < 0x90 or (code < 0x20 and code):
            self.skipped["unsupported_command"] += 1
        return at + 1 + extra

    def _c1(self, data: bytes, at: int, now: Fraction) -> int:
        code = data[at]
        size = C1_PARAMS[code]
        if at + 1 + size > len(data):
            self.skipped["truncated_command"] += 1
            return len(data)
        params = data[at + 1:at + 1 + size]
        bitmap = params[0] if size == 1 else 0
        chosen = [self.windows[n] for n in range(8) if bitmap >> n & 1 and n in self.windows]
        if code in WINDOW_CHANGES:
            self.sync(now)  # text written into visible windows is shown before the windows change
        if CW0 <= code < CW0 + 8:
            if code - CW0 in self.windows:
                self.current = code - CW0
        elif code == CLW:
            for window in chosen:
                window.clear()
        elif code == DSW:
            for window in chosen:
                window.visible = True
        elif code == HDW:
            for window in chosen:
                window.visible = False
        elif code == TGW:
            for window in chosen:
                window.visible = not window.visible
        elif code == DLW:
            for n in range(8):
                if bitmap >> n & 1 and n in self.windows:
                    window = self.windows.pop(n)
                    window.visible = False
                    self._sync(window, now)
                    if self.current == n:
                        self.current = None
        elif code == DLY:
            self.delay_until = now + Fraction(bitmap, 10)
        elif code == DLC:
            self.delay_until = Fraction(0)
        elif code == RST:
            for window in self.windows.values():
                window.visible = False
            self.sync(now)
            self.windows.clear()
            self.current = None
        elif code == SPL:
            pen = self._window()
            if pen is not None:
                pen.pen_row = min(params[0] & 0x0F, pen.rows - 1)
                pen.pen_column = min(params[1] & 0x3F, MAX_COLUMNS)
        elif code >= DF0:
            self._define(code - DF0, params)
        if code in WINDOW_CHANGES:
            self.sync(now)
        return at + 1 + size

    def _define(self, number: int, params: bytes) -> None:
        """DefineWindow (§8.10.5.2): visible bit, anchor (relative: percent; else 75 rows × 210 columns of a
        16:9 grid), row and column counts (stored minus one)."""
        window = self.windows.get(number)
        if window is None:
            window = self.windows[number] = _Window()
        rows = min((params[3] & 0x0F) + 1, MAX_ROWS)
        window.columns = min((params[4] & 0x3F) + 1, MAX_COLUMNS)
        if rows != window.rows or len(window.text) != rows:
            kept = window.text[-rows:]
            window.text = [[] for _ in range(rows - len(kept))] + kept
            window.rows = rows
            window.pen_row = min(window.pen_row, rows - 1)
        window.visible = bool(params[0] & 0x20)
        relative, vertical, horizontal = params[1] & 0x80, params[1] & 0x7F, params[2]
        window.line = float(min(vertical, 99)) if relative else round(min(vertical, 74) * 100 / 75, 1)
        window.position = float(min(horizontal, 99)) if relative else round(min(horizontal, 209) * 100 / 210, 1)
        self.current = number


class Cea708Decoder:
    """The caption text of every CEA-708 service in a stream of DTVCC triplets (see the module docstring).
    Never raises on bad data: a packet or command cut short, an unknown character or an unsupported command is
    skipped and counted in `skipped` ({kind: count})."""

    def __init__(self) -> None:
        self.skipped: Counter[str] = Counter()
        self._services: dict[int, _Service] = {}
        self._packet: bytearray | None = None
        self._size = 0
        self._time = Fraction(0)

    def feed(self, time: Fraction, cc_type: int, first: int, second: int) -> None:
        """One valid DTVCC triplet (cc_type 3 starts a packet, 2 continues it) at its picture's `time`; a packet
        is decoded when its last byte pair arrives, at that pair's time."""
        if cc_type == PACKET_START:
            if self._packet is not None:
                self.skipped["truncated_packet"] += 1
                self._decode(bytes(self._packet), cut=True)
            code = first & 0x3F
            self._size = (code or 64) * 2
            self._packet = bytearray((first, second))
        elif cc_type == PACKET_DATA:
            if self._packet is None:
                if first or second:  # 0x00 0x00 between packets is padding some encoders mark valid
                    self.skipped["data_outside_packet"] += 1
                return
            self._packet += bytes((first, second))
        else:
            return
        self._time = time
        if len(self._packet) >= self._size:
            self._decode(bytes(self._packet[:self._size]))
            self._packet = None

    def _decode(self, packet: bytes, *, cut: bool = False) -> None:
        """The service blocks of one packet (`cut`: already counted as cut short, what is there is read)."""
        for block in service_blocks(packet):
            if block.truncated:
                self.skipped["truncated_packet"] += 0 if cut else 1
            if 1 <= block.number <= 63 and block.data:
                service = self._services.get(block.number)
                if service is None:
                    service = self._services[block.number] = _Service(block.number, self.skipped)
                service.decode(block.data, self._time)

    def finish(self, end: Fraction | float) -> dict[int, list[Caption708]]:
        """Every service's cues, in order of start; captions still shown end at `end` (seconds)."""
        if self._packet is not None:
            self.skipped["truncated_packet"] += 1
            self._decode(bytes(self._packet), cut=True)
            self._packet = None
        result = {}
        for number, service in sorted(self._services.items()):
            service.finish(Fraction(end))
            result[number] = sorted(service.cues, key=lambda c: (c.start, c.end))
        return result


def decode(triplets: list[tuple[Fraction, int, int, int]], end: Fraction | float
           ) -> tuple[dict[int, list[Caption708]], Counter[str]]:
    """(time, cc_type, byte 1, byte 2) of valid DTVCC triplets → ({service: cues}, skipped counts)."""
    decoder = Cea708Decoder()
    for time, cc_type, first, second in triplets:
        decoder.feed(time, cc_type, first, second)
    return decoder.finish(end), decoder.skipped


__all__ = ["Caption708", "Cea708Decoder", "decode"]
