"""The hostile corpus: files an attacker (or a broken upload) sends, generated deterministically.

``python tests/hostile/corpus.py DIR [CANARY_URL]`` writes every case into DIR and prints the table.
Tests call `build(folder, canary_url)`; nothing here is committed as binary.

Each `Case` names the entry point it goes through ("master": the whole `transcode`, which rejects
at probe; "subtitle": `load_sidecar`), the path argument, and the code it must end with
(None: safely handled, i.e. accepted quickly within bounds).
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

FFMPEG = os.environ.get("FFMPEG_PATH", "ffmpeg")
PASSWD = "file:///etc/passwd"
LEAK_MARK = "root:x:0:0"
FIFO_NAME = "canary.ts"  # an extension ffmpeg's hls demuxer allows by default


@dataclass(frozen=True)
class Case:
    name: str
    kind: str  # "master" | "subtitle"
    path: str  # as handed to vodfleet (absolute, or a protocol-looking relative string)
    code: str | None  # expected error code; None = handled without error
    language: str = "en"


def _ffmpeg(*args: str) -> None:
    subprocess.run([FFMPEG, "-v", "error", "-nostdin", "-y", *args], check=True)


def _hls(target: str) -> str:
    return f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\n{target}\n#EXT-X-ENDLIST\n"


def _dash(target: str) -> str:
    return ('<?xml version="1.0"?>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" '
            'mediaPresentationDuration="PT10S" minBufferTime="PT2S" '
            'profiles="urn:mpeg:dash:profile:isoff-on-demand:2011">'
            f'<Period><AdaptationSet mimeType="video/mp4"><Representation id="1" bandwidth="1000">'
            f"<BaseURL>{target}</BaseURL></Representation></AdaptationSet></Period></MPD>\n")


def _patch_avi_size(path: Path, width: int, height: int) -> None:
    """Claim another frame size in the AVI main header (avih) and the stream format (strf)."""
    data = bytearray(path.read_bytes())
    avih = data.find(b"avih") + 8
    struct.pack_into("<II", data, avih + 32, width, height)
    strf = data.find(b"strf") + 8
    struct.pack_into("<ii", data, strf + 4, width, height)
    path.write_bytes(bytes(data))


def _patch_mkv_duration(path: Path, seconds: float) -> None:
    """Claim another duration in the Matroska Segment Info (Duration, 8-byte float, milliseconds)."""
    data = bytearray(path.read_bytes())
    at = data.find(b"\x44\x89\x88")
    struct.pack_into(">d", data, at + 3, seconds * 1000.0)
    path.write_bytes(bytes(data))


def masters(folder: Path, canary: str) -> list[Case]:
    cases: list[Case] = []

    def add(name: str, filename: str, content: str | bytes, code: str) -> Path:
        path = folder / filename
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        cases.append(Case(name, "master", str(path), code))
        return path

    # Playlists wearing a container's name: the content picks the demuxer, not the extension.
    add("hls_in_avi_to_canary", "playlist_http.avi", _hls(f"{canary}/hls.ts"), "source_format_refused")
    add("hls_named_mp4_to_passwd", "playlist_passwd.mp4", _hls(PASSWD), "source_format_refused")
    add("hls_in_mkv_to_local_fifo", "playlist_fifo.mkv", _hls(f"file://{folder / FIFO_NAME}"),
        "source_format_refused")
    add("dash_named_mp4_to_canary", "manifest_http.mp4", _dash(f"{canary}/dash.mp4"), "source_format_refused")
    add("ffconcat_named_mov_to_passwd", "list.mov", "ffconcat version 1.0\nfile '/etc/passwd'\n"
        f"file '{canary}/concat.mp4'\n", "source_format_refused")
    # A real local file whose *name* is protocol syntax: read as a file (file: prefix), then refused.
    add("file_named_concat_protocol", "concat:playlist_http.avi|x.mp4", _hls(f"{canary}/named.ts"),
        "source_format_refused")
    # Protocol strings as the source argument: never handed to ffmpeg at all.
    cases.append(Case("concat_protocol_argument", "master", f"concat:/etc/passwd|{folder}/x.mp4",
                      "source_not_local"))
    cases.append(Case("subfile_protocol_argument", "master", "subfile,,start,0,end,0,,:/etc/passwd",
                      "source_not_local"))
    cases.append(Case("http_url_argument", "master", f"{canary}/master.mp4", "source_not_local"))
    # Image sequences and text: demuxers that are not containers.
    png = folder / "frame%03d.png"
    _ffmpeg("-f", "lavfi", "-i", "color=red:s=16x16:d=0.04", "-frames:v", "1", "-update", "1", str(folder / "one.png"))
    for number in range(1, 4):
        shutil.copyfile(folder / "one.png", folder / f"frame{number:03d}.png")
    shutil.copyfile(folder / "one.png", png)
    cases.append(Case("image2_pattern_png", "master", str(png), "source_format_refused"))
    add("png_named_mp4", "picture.mp4", (folder / "one.png").read_bytes(), "source_format_refused")
    add("text_file_tty", "readme.txt", "root:x:0:0 is not what we want to see\n" * 20, "source_format_refused")
    # Claimed sizes and durations.
    huge = folder / "huge_65535.avi"
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=s=16x16:r=25:d=0.2", "-c:v", "rawvideo", "-pix_fmt", "yuv420p", str(huge))
    big = folder / "big_16000.avi"
    shutil.copyfile(huge, big)
    _patch_avi_size(huge, 65535, 65535)  # ffmpeg itself refuses this size: reported as 0x0
    _patch_avi_size(big, 16000, 16000)  # within ffmpeg's sanity limit: our 8K cap refuses it
    cases.append(Case("claims_65535x65535", "master", str(huge), "source_undecodable"))
    cases.append(Case("claims_16000x16000", "master", str(big), "source_too_large"))
    long = folder / "hundred_hours.mkv"
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=s=64x36:r=25:d=1", "-c:v", "libx264", "-preset", "ultrafast", str(long))
    _patch_mkv_duration(long, 100 * 3600.0)
    cases.append(Case("claims_100_hours", "master", str(long), "source_too_long"))
    streams = folder / "thousand_streams.mkv"
    maps = [arg for _ in range(999) for arg in ("-map", "1:a")]
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=s=32x32:r=25:d=0.2", "-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono",
            "-map", "0:v", *maps, "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "pcm_s16le", "-t", "0.2",
            str(streams))
    cases.append(Case("thousand_streams", "master", str(streams), "source_too_many_streams"))
    # Broken uploads.
    add("zero_length", "empty.mp4", b"", "source_empty")
    whole = folder / "whole.mp4"
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=s=64x36:r=25:d=2", "-c:v", "libx264", "-preset", "ultrafast", str(whole))
    add("truncated_mp4", "truncated.mp4", whole.read_bytes()[: whole.stat().st_size // 2], "source_truncated")
    add("random_bytes", "noise.mp4", bytes((n * 7919 + 13) % 251 for n in range(64 * 1024)), "source_not_media")
    return cases


def _srt(cues: int, start: str = "00:00:01,000", end: str = "00:00:02,000") -> str:
    return "".join(f"{n}\n{start} --> {end}\nx\n\n" for n in range(1, cues + 1))


def subtitles(folder: Path, canary: str) -> list[Case]:
    cases: list[Case] = []

    def add(name: str, filename: str, content: str | bytes, code: str | None, language: str = "en") -> None:
        path = folder / filename
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        cases.append(Case(name, "subtitle", str(path), code, language))

    tt = '<tt xmlns="http://www.w3.org/ns/ttml"><body><div><p begin="1s" end="2s">&{};</p></div></body></tt>'
    laughs = "".join(f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 10))
    add("ttml_billion_laughs", "laughs.ttml",
        f'<?xml version="1.0"?><!DOCTYPE tt [<!ENTITY l0 "ha">{laughs}]>' + tt.format("l9"), "subtitle_unsafe_xml")
    add("ttml_external_entity_passwd", "xxe_passwd.ttml",
        f'<?xml version="1.0"?><!DOCTYPE tt [<!ENTITY x SYSTEM "{PASSWD}">]>' + tt.format("x"), "subtitle_unsafe_xml")
    add("ttml_external_entity_canary", "xxe_http.ttml",
        f'<?xml version="1.0"?><!DOCTYPE tt SYSTEM "{canary}/dtd">' + tt.format("amp"), "subtitle_unsafe_xml")
    deep = 5000
    add("ttml_nested_5000_deep", "deep.ttml",
        '<tt xmlns="http://www.w3.org/ns/ttml"><body>' + "<div>" * deep + '<p begin="1s" end="2s">x</p>'
        + "</div>" * deep + "</body></tt>", "subtitle_too_complex")
    add("ttml_element_flood", "flood.ttml",
        '<tt xmlns="http://www.w3.org/ns/ttml"><body><div>' + "<p/>" * 2_000_000 + "</div></body></tt>",
        "subtitle_too_complex")
    styles = "".join(f'<style xml:id="s{n}" style="{" ".join(f"s{m}" for m in range(40))}"/>' for n in range(40))
    add("ttml_style_reference_fanout", "styles.ttml",
        f'<tt xmlns="http://www.w3.org/ns/ttml"><head><styling>{styles}</styling></head><body><div>'
        + '<p begin="1s" end="2s" style="s0">x</p>' * 2000 + "</div></body></tt>", None)
    add("ttml_zero_frame_rate", "zero_rate.ttml",
        '<tt xmlns="http://www.w3.org/ns/ttml" xmlns:ttp="http://www.w3.org/ns/ttml#parameter" ttp:frameRate="0">'
        '<body><div><p begin="00:00:01:05" end="2s">x</p></div></body></tt>', "subtitle_timestamp_invalid")
    add("srt_million_cues", "million.srt", _srt(1_000_000), "subtitle_too_large")
    add("srt_200k_cues_under_the_size_cap", "many.srt",
        "".join("0:1.0 --> 0:2.0\nx\n\n" for _ in range(200_000)), "subtitle_too_many_cues")
    add("srt_cue_at_99_59_59", "late.srt", _srt(1, "99:59:59,000", "99:59:59,900"), "subtitle_timestamp_invalid")
    add("srt_10mb_line", "long_line.srt", "1\n00:00:01,000 --> 00:00:02,000\n" + "a" * 10_000_000 + "\n",
        "subtitle_line_too_long")
    flood = "".join("{\\i1\\b1\\u1}{\\i0}{\\b0\\r}{" for _ in range(300)) + "x"
    events = "".join(f"Dialogue: 0,0:00:0{n % 10}.00,0:00:0{n % 10}.50,Default,,0,0,0,,{flood}\n"
                     for n in range(1000))
    add("ass_override_tag_flood", "flood.ass", "[Script Info]\nScriptType: v4.00+\n\n[Events]\n"
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n" + events, None)
    add("ass_absurd_timestamp", "absurd.ass", "[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, "
        "MarginR, MarginV, Effect, Text\nDialogue: 0,999999999:00:00.00,999999999:00:01.00,Default,,0,0,0,,x\n",
        "subtitle_timestamp_invalid")
    add("language_path_traversal", "en.srt", _srt(1), "language_invalid", language="../../etc/passwd")
    return cases


def build(folder: Path, canary: str) -> list[Case]:
    """Write every case into `folder` (plus the FIFO canary `folder/canary.ts`); return the table."""
    folder.mkdir(parents=True, exist_ok=True)
    fifo = folder / FIFO_NAME
    if not fifo.exists():
        os.mkfifo(fifo)
    return masters(folder, canary) + subtitles(folder, canary)


if __name__ == "__main__":
    for case in build(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "http://127.0.0.1:9"):
        print(f"{case.name:34} {case.kind:8} {case.code or '(accepted)':26} {case.path}")
