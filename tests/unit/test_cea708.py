"""The CEA-708 service decoder (pipelines.captions.cea708) on hand-built DTVCC byte sequences: pop-on, roll-up,
clears, G1/G2/P16 characters, commands it does not render consumed with their parameter bytes, bad data
skipped and counted."""

from __future__ import annotations

import dataclasses
from fractions import Fraction

from cea608gen import cea708_popon, cea708_text, define_window, dtvcc_frames, dtvcc_packets

from pipelines.captions.cc import document_708
from pipelines.captions.cea708 import Caption708, Cea708Decoder, decode
from pipelines.packaging import subtitle_names

F = Fraction(1001, 30000)


Timed = dict[int, list[tuple[Fraction, Fraction, str]]]


def _run(frames: dict[int, list[tuple[int, int, int]]], end: int = 300) -> tuple[Timed, dict[str, int]]:
    decoder = Cea708Decoder()
    for frame in sorted(frames):
        for cc_type, first, second in frames[frame]:
            decoder.feed(frame * F, cc_type, first, second)
    got = decoder.finish(end * F)
    return {n: [(c.start, c.end, c.text) for c in cues] for n, cues in got.items()}, dict(decoder.skipped)


def test_pop_on_caption_shows_from_display_to_delete() -> None:
    frames = dtvcc_frames({1: cea708_popon([(30, 60, ["HELLO", "WORLD"]), (90, 120, ["AGAIN"])])})
    got, skipped = _run(frames)
    assert got == {1: [(30 * F, 60 * F, "HELLO\nWORLD"), (90 * F, 120 * F, "AGAIN")]}
    assert skipped == {}


def test_two_services_are_kept_apart_and_extended_numbers_read() -> None:
    frames = dtvcc_frames({1: cea708_popon([(30, 60, ["ONE"])]), 2: cea708_popon([(40, 70, ["DOS"])]),
                           12: cea708_popon([(50, 80, ["TWELVE"])], window=3)})
    got, _ = _run(frames)
    assert got == {1: [(30 * F, 60 * F, "ONE")], 2: [(40 * F, 70 * F, "DOS")], 12: [(50 * F, 80 * F, "TWELVE")]}


def test_roll_up_commits_a_line_at_each_carriage_return_and_scrolls() -> None:
    window = define_window(0, rows=2, visible=True)
    frames = {10: dtvcc_packets({1: window + cea708_text("FIRST LINE")}),
              20: dtvcc_packets({1: b"\x0d"}, sequence=1),  # CR commits "FIRST LINE"
              30: dtvcc_packets({1: cea708_text("SECOND\n")}, sequence=2),
              40: dtvcc_packets({1: cea708_text("THIRD\n")}, sequence=3),  # scrolls: FIRST leaves
              50: dtvcc_packets({1: bytes([0x88, 0x01])}, sequence=0)}  # CLW clears
    got, _ = _run(frames)
    # each line from when its first character came, committed by its CR
    assert got == {1: [(10 * F, 30 * F, "FIRST LINE"), (30 * F, 40 * F, "FIRST LINE\nSECOND"),
                       (40 * F, 50 * F, "SECOND\nTHIRD")]}


def test_paint_on_text_is_shown_from_its_first_character_until_cleared() -> None:
    frames = {10: dtvcc_packets({1: define_window(0, rows=1, visible=True) + cea708_text("PAI")}),
              12: dtvcc_packets({1: cea708_text("NT") + bytes([0x90, 0x00, 0x00])}, sequence=1),  # SPA: no commit
              20: dtvcc_packets({1: bytes([0x88, 0x01])}, sequence=2),  # CLW
              30: dtvcc_packets({1: cea708_text("STILL THERE")}, sequence=3)}  # never committed: shown to the end
    got, _ = _run(frames, end=40)
    assert got == {1: [(10 * F, 20 * F, "PAINT"), (30 * F, 40 * F, "STILL THERE")]}


def test_clear_hide_and_toggle_end_or_start_a_cue() -> None:
    frames = {10: dtvcc_packets({1: define_window(0, rows=1) + cea708_text("TOGGLED")}),
              20: dtvcc_packets({1: bytes([0x8B, 0x01])}, sequence=1),  # TGW: shown
              30: dtvcc_packets({1: bytes([0x8A, 0x01])}, sequence=2),  # HDW: hidden
              40: dtvcc_packets({1: bytes([0x89, 0x01])}, sequence=3),  # DSW: shown again
              50: dtvcc_packets({1: b"\x0c"}, sequence=0)}  # FF: cleared
    got, _ = _run(frames)
    assert got == {1: [(20 * F, 30 * F, "TOGGLED"), (40 * F, 50 * F, "TOGGLED")]}


def test_g0_music_note_g1_g2_and_p16_characters() -> None:
    text = cea708_text("\u266a \u00bfQu\u00e9? \u2026\u0152\u0153\u0160\u2122 \u201cok\u201d \u20ac")
    assert b"\x18\x20\xac" in text and b"\x10\x25" in text and b"\x7f" in text  # P16 €, EXT1 ellipsis, note
    raw = bytes([0x10, 0x21, 0x10, 0xA0])  # EXT1 NBTSP, EXT1 G3 [CC] icon
    frames = dtvcc_frames({1: {10: define_window(0, rows=1) + text + raw, 20: bytes([0x89, 0x01]),
                               30: bytes([0x8C, 0x01])}})
    got, skipped = _run(frames)
    assert got == {1: [(20 * F, 30 * F, "\u266a \u00bfQu\u00e9? \u2026\u0152\u0153\u0160\u2122 \u201cok\u201d "
                                        "\u20ac\u00a0[CC]")]}
    assert skipped == {}


def test_commands_not_rendered_are_consumed_with_their_parameter_bytes() -> None:
    unrendered = bytes([0x90, 0x41, 0x42,  # SPA: 2 bytes that would read as "AB"
                        0x91, 0x43, 0x44, 0x45,  # SPC: 3
                        0x97, 0x46, 0x47, 0x48, 0x49,  # SWA: 4
                        0x8D, 0x00, 0x8E,  # DLY 0, DLC
                        0x11, 0x4A,  # C0 0x11-0x17: one byte
                        0x19, 0x4B, 0x4C,  # C0 0x19: two bytes (not P16)
                        0x10, 0x08, 0x4D,  # EXT1 C2 0x08: one byte
                        0x10, 0x80, 0x4E, 0x4F, 0x50, 0x51,  # EXT1 C3 0x80: four bytes
                        0x10, 0x90, 0x02, 0x52, 0x53,  # EXT1 C3 variable length: 2 bytes
                        0x93])  # reserved C1: none
    frames = dtvcc_frames({1: {10: define_window(0, rows=1) + cea708_text("X") + unrendered + cea708_text("Y"),
                               20: bytes([0x89, 0x01]), 30: bytes([0x8C, 0x01])}})
    got, skipped = _run(frames)
    assert got == {1: [(20 * F, 30 * F, "XY")]}
    assert skipped == {"unsupported_command": 3}


def test_pen_location_backspace_and_horizontal_carriage_return() -> None:
    data = (define_window(0, rows=2) + cea708_text("ABX") + b"\x08" + cea708_text("C")  # BS removes X
            + bytes([0x92, 0x01, 0x02]) + cea708_text("LOW")  # SPL row 1, column 2
            + b"\x0e" + cea708_text("NEW"))  # HCR clears row 1
    frames = dtvcc_frames({1: {10: data, 20: bytes([0x89, 0x01]), 30: bytes([0x8F])}})  # RST ends it
    got, _ = _run(frames)
    assert got == {1: [(20 * F, 30 * F, "ABC\nNEW")]}


def test_delay_holds_the_following_commands_back() -> None:
    data = define_window(0, rows=1) + cea708_text("LATER") + bytes([0x8D, 10, 0x89, 0x01])  # DLY 1.0 s, DSW
    got, _ = _run(dtvcc_frames({1: {10: data, 100: bytes([0x8C, 0x01])}}))
    assert got == {1: [(10 * F + 1, 100 * F, "LATER")]}


def test_text_without_a_window_and_bad_packets_are_skipped_and_counted() -> None:
    good = dtvcc_frames({1: cea708_popon([(30, 60, ["KEPT"])])})
    truncated = dtvcc_packets({1: define_window(1, rows=1) + cea708_text("CUT SHORT")})[:3]  # a third of it
    stray = [(2, 0x41, 0x42), (2, 0, 0)]  # packet data with no packet start (0x00 0x00: padding, not counted)
    cut_command = dtvcc_packets({1: bytes([0x98, 0x20])})  # DefineWindow missing 5 of its 6 bytes
    frames = {**good, 5: stray, 6: truncated, 8: dtvcc_packets({1: "NO WINDOW"}), 9: cut_command}
    got, skipped = _run(frames)
    assert got == {1: [(30 * F, 60 * F, "KEPT")]}
    # the cut packet is read as far as it goes: its DefineWindow is cut too
    assert skipped == {"data_outside_packet": 1, "truncated_packet": 1, "text_without_window": 9,
                       "truncated_command": 2}


def test_random_bytes_never_raise() -> None:
    import random

    rng = random.Random(708)
    triplets = [(Fraction(i, 30), rng.choice((2, 3)), rng.randrange(256), rng.randrange(256)) for i in range(5000)]
    cues, skipped = decode(triplets, 200)
    assert all(c.end > c.start for service in cues.values() for c in service)
    assert sum(skipped.values()) > 0


def test_a_top_anchored_window_keeps_its_line_and_times_snap_to_frames() -> None:
    frames = dtvcc_frames({1: {10: define_window(0, rows=1, anchor_row=6) + cea708_text("TOP <&>"),
                               20: bytes([0x89, 0x01]), 30: bytes([0x8C, 0x01])}})
    got = decode([(f * F, *t) for f, ts in sorted(frames.items()) for t in ts], 300)[0][1]
    assert got == [Caption708(20 * F, 30 * F, "TOP <&>", 8.0, 4.8)]
    doc = document_708([*got, Caption708(Fraction(1), Fraction(1001, 1000), "GONE")], "en", source="svc1",
                       fps=Fraction(30000, 1001), duration=None, skipped={"truncated_packet": 2})
    # snapped to the frame grid (ms); a cue shorter than a frame is left out
    assert [(c.start, c.end, c.text, c.placement.line) for c in doc.cues] == [
        (round(float(20 * F), 3), round(float(30 * F), 3), "TOP &lt;&amp;&gt;", 8.0)]
    assert doc.sdh and doc.source_format == "cea708" and doc.dropped == (("dtvcc_truncated_packet", 2),)


def test_caption_renditions_are_labelled_by_their_channel_or_service() -> None:
    doc = document_708([Caption708(Fraction(1), Fraction(2), "HI")], "en", source="svc1", fps=Fraction(30000, 1001),
                       duration=None, skipped={})
    docs = [dataclasses.replace(doc, channel="SERVICE1"), dataclasses.replace(doc, channel="CC1"), doc]
    assert subtitle_names(docs) == ["English (SERVICE1)", "English (CC1)", "English (SDH)"]
