"""Rung and Ladder: the bitrate ladder as data, loaded from a TOML file and validated at construction.

A ladder is H.264 rungs plus, per other codec a job may opt into (``--codecs h264,hevc,av1``), a bitrate
factor: the HEVC or AV1 rung has the H.264 rung's box and ``factor x`` its bitrate (``[codecs.hevc]
bitrate_factor = 0.6``). The factors live in the ladder files, never in code; a job asking for a codec its
ladder has no factor for is refused (ConfigError naming the ladder and the table to add).
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pipelines.errors import ConfigError

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_PROFILES = ("baseline", "main", "high")
_CODECS = ("h264",)
# Codecs whose rungs a job may add beside the H.264 ladder (pipelines.codecs); each needs a factor in the ladder.
EXTRA_CODECS = ("hevc", "av1")


@dataclass(frozen=True)
class Rung:
    id: str  # path-safe: becomes video/<id>/
    width: int  # landscape bounding box
    height: int
    bitrate: int  # bits/s for the full box
    profile: str = "high"

    def __post_init__(self) -> None:
        if not _ID.match(self.id):
            raise ConfigError(f"rung id {self.id!r} is invalid",
                              hint="use 1-32 chars of a-z, 0-9, '_' or '-', starting with a letter or digit")
        if self.width < 16 or self.height < 16 or self.width % 2 or self.height % 2:
            raise ConfigError(f"rung {self.id}: size {self.width}x{self.height} is invalid",
                              hint="width and height must be even and at least 16")
        if not 16_000 <= self.bitrate <= 100_000_000:
            raise ConfigError(f"rung {self.id}: bitrate {self.bitrate} is out of range",
                              hint="give bits per second between 16000 and 100000000")
        if self.profile not in _PROFILES:
            raise ConfigError(f"rung {self.id}: profile {self.profile!r} is not one of {', '.join(_PROFILES)}",
                              hint="pick an H.264 profile from that list")


@dataclass(frozen=True)
class Ladder:
    name: str
    rungs: tuple[Rung, ...]
    codec: str = "h264"
    # (codec, factor): an extra codec's rung bitrate = the H.264 rung's x factor (``[codecs.<name>]``)
    codec_factors: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        if not self.rungs:
            raise ConfigError(f"ladder {self.name!r} has no rungs", hint="add at least one [[rungs]] table")
        ids = [r.id for r in self.rungs]
        if len(set(ids)) != len(ids):
            raise ConfigError(f"ladder {self.name!r} repeats a rung id", hint="give every rung a unique id")
        if self.codec not in _CODECS:
            raise ConfigError(f"ladder {self.name!r}: codec {self.codec!r} is not supported",
                              hint=f"supported codecs: {', '.join(_CODECS)}")
        for name, factor in self.codec_factors:
            if name not in EXTRA_CODECS:
                raise ConfigError(f"ladder {self.name!r}: [codecs.{name}] names an unknown codec",
                                  hint=f"codecs that take a bitrate factor: {', '.join(EXTRA_CODECS)}")
            if not 0.1 <= factor <= 1.5:
                raise ConfigError(f"ladder {self.name!r}: [codecs.{name}] bitrate_factor {factor} is out of range",
                                  hint="give the codec's bitrate as a fraction of H.264's, between 0.1 and 1.5")
        areas = [r.width * r.height for r in self.rungs]
        if areas != sorted(areas):
            raise ConfigError(f"ladder {self.name!r}: rungs are not in ascending size",
                              hint="list rungs from the smallest to the largest")


    def factor(self, codec: str) -> float:
        """The bitrate factor of `codec` against this ladder's H.264 rungs; ConfigError when the file has none."""
        found = dict(self.codec_factors).get(codec)
        if found is None:
            raise ConfigError(f"ladder {self.name!r} has no bitrate factor for {codec}",
                              hint=f"add `[codecs.{codec}]` with `bitrate_factor = 0.6` (say) to the ladder file, "
                                   "or leave the codec out of --codecs")
        return found
# `--ladder per-title`: the rungs are chosen per title from measured VMAF (`pipelines.pertitle`). Its candidates
# (sizes, and the bitrates it may not exceed unless they miss the target) are this fixed ladder's.
PER_TITLE = "per-title"
PER_TITLE_BASE = "default"


def builtin_ladders() -> list[str]:
    """Every name `load_ladder` takes without a path: the TOML files under pipelines/ladders, and "per-title"."""
    files = resources.files("pipelines").joinpath("ladders").iterdir()
    return sorted([*(f.name.removesuffix(".toml") for f in files if f.name.endswith(".toml")), PER_TITLE])


def load_ladder(name_or_path: str) -> Ladder:
    """A built-in ladder by name ("default"), or a TOML file by path.

    "per-title" loads its candidates: the `PER_TITLE_BASE` ladder under the name "per-title"; the transcode's
    planning step (`pipelines.transcode.plan_transcode`) replaces the rungs by the analysis' choice."""
    if name_or_path == PER_TITLE:
        return dataclasses.replace(load_ladder(PER_TITLE_BASE), name=PER_TITLE)
    if name_or_path.endswith(".toml") or "/" in name_or_path:
        path = Path(name_or_path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read ladder file {path}: {exc.strerror}",
                              hint="give an existing TOML file or a built-in name") from exc
        return parse_ladder(text, source=str(path))
    if name_or_path not in builtin_ladders():
        raise ConfigError(f"unknown ladder {name_or_path!r}",
                          hint=f"built-in ladders: {', '.join(builtin_ladders())}; or give a .toml path")
    text = resources.files("pipelines").joinpath("ladders", f"{name_or_path}.toml").read_text("utf-8")
    return parse_ladder(text, source=name_or_path)


def parse_ladder(text: str, *, source: str) -> Ladder:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"ladder {source}: not valid TOML: {exc}", hint="fix the TOML syntax") from exc
    rungs = doc.get("rungs")
    if not isinstance(rungs, list):
        raise ConfigError(f"ladder {source}: missing [[rungs]] tables", hint="see pipelines/ladders/default.toml")
    return Ladder(name=str(doc.get("name", source)), codec=str(doc.get("codec", "h264")),
                  rungs=tuple(_rung(r, source) for r in rungs), codec_factors=_codec_factors(doc.get("codecs"), source))


def _codec_factors(raw: Any, source: str) -> tuple[tuple[str, float], ...]:
    """``[codecs.hevc] bitrate_factor = 0.6`` tables → (("hevc", 0.6), ...)."""
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise ConfigError(f"ladder {source}: `codecs` must be tables such as [codecs.hevc]",
                          hint="see pipelines/ladders/default.toml")
    factors = []
    for name, table in raw.items():
        if not isinstance(table, dict) or set(table) != {"bitrate_factor"}:
            raise ConfigError(f"ladder {source}: [codecs.{name}] must hold exactly `bitrate_factor`",
                              hint="e.g. [codecs.hevc] bitrate_factor = 0.6")
        value = table["bitrate_factor"]
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ConfigError(f"ladder {source}: [codecs.{name}] bitrate_factor {value!r} is not a number",
                              hint="give a fraction such as 0.6")
        factors.append((str(name), float(value)))
    return tuple(factors)


def _rung(raw: Any, source: str) -> Rung:
    allowed = {"id", "width", "height", "bitrate", "profile"}
    if not isinstance(raw, dict) or not {"id", "width", "height", "bitrate"} <= raw.keys():
        raise ConfigError(f"ladder {source}: each rung needs id, width, height and bitrate",
                          hint="see pipelines/ladders/default.toml")
    extra = raw.keys() - allowed
    if extra:
        raise ConfigError(f"ladder {source}: unknown rung field(s) {', '.join(sorted(extra))}",
                          hint=f"allowed fields: {', '.join(sorted(allowed))}")
    try:
        return Rung(id=str(raw["id"]), width=int(raw["width"]), height=int(raw["height"]),
                    bitrate=int(raw["bitrate"]), profile=str(raw.get("profile", "high")))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"ladder {source}: rung {raw.get('id')!r} has a non-numeric field",
                          hint="width, height and bitrate are integers") from exc
