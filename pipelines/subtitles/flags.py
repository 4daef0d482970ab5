"""Track flags: what kind of subtitle rendition a sidecar is, from the command line or its file name.

    LANG=PATH                 a full subtitle track (``--subtitle ko=episode.ko.srt``)
    LANG:forced=PATH          a forced-narrative track: only the foreign dialogue and on-screen text
    LANG:sdh=PATH             subtitles for the deaf and hard of hearing (speaker names, sounds, music)
    LANG:forced,sdh=PATH      both (rare)
    episode.en.forced.srt     the same flags as dot-separated words of the file name (``.sdh.`` too)

Forced → HLS ``FORCED=YES`` (RFC 8216 §4.3.4.1) and DASH Role ``forced-subtitle`` (DASH-IF IOP v5);
SDH → HLS ``CHARACTERISTICS="public.accessibility.transcribes-spoken-dialog,
public.accessibility.describes-music-and-sound"`` (Apple HLS authoring spec) and DASH Accessibility.
"""

from __future__ import annotations

FLAGS = ("forced", "sdh")


class FlagError(ValueError):
    """A subtitle argument that is not ``LANG[:FLAG[,FLAG]]=PATH``; the message says what to write."""


def parse_subtitle_argument(text: str, option: str = "--subtitle") -> tuple[str, frozenset[str], str]:
    """``"en:forced=a.srt"`` -> ("en", {"forced"}, "a.srt"); flags in the file name are added."""
    head, sep, path = text.partition("=")
    language, _, flag_text = head.partition(":")
    if not sep or not language.strip() or not path:
        raise FlagError(f"{option} {text!r}: expected LANG=PATH or LANG:forced=PATH / LANG:sdh=PATH, "
                        f"e.g. ko=episode.ko.srt")
    flags = {flag.strip().lower() for flag in flag_text.split(",") if flag.strip()}
    unknown = sorted(flags - set(FLAGS))
    if unknown:
        raise FlagError(f"{option} {text!r}: unknown flag {', '.join(unknown)}; use forced and/or sdh")
    return language.strip(), frozenset(flags) | flags_from_name(path), path


def flags_from_name(path: str) -> frozenset[str]:
    """Flags written as dot-separated words of the file name: ``film.en.forced.srt``, ``film.en.sdh.vtt``."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1].lower()
    words = name.split(".")[1:-1]  # neither the title nor the extension
    return frozenset(flag for flag in FLAGS if flag in words)


def track_suffix(forced: bool, sdh: bool) -> str:
    """The id suffix that keeps a language's tracks apart: "", "-forced", "-sdh", "-forced-sdh"."""
    return ("-forced" if forced else "") + ("-sdh" if sdh else "")
