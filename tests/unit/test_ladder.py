"""Ladders are validated data files."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.errors import ConfigError
from pipelines.ladder import builtin_ladders, load_ladder, parse_ladder


def test_builtin_ladders_load() -> None:
    assert {"default", "compact"} <= set(builtin_ladders())
    default = load_ladder("default")
    assert (default.rungs[0].width, default.rungs[0].height, default.rungs[0].bitrate) == (416, 234, 145_000)
    assert (default.rungs[-1].width, default.rungs[-1].height, default.rungs[-1].bitrate) == (1920, 1080, 7_800_000)
    assert len(load_ladder("compact").rungs) == 5


def test_ladder_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text('name = "mine"\n[[rungs]]\nid = "small"\nwidth = 320\nheight = 180\nbitrate = 200000\n')
    ladder = load_ladder(str(path))
    assert ladder.name == "mine" and ladder.rungs[0].profile == "high"


RUNG = 'id = "{id}"\nwidth = {w}\nheight = {h}\nbitrate = {b}\n'


@pytest.mark.parametrize(("text", "message"), [
    ("name = [", "not valid TOML"),
    ('name = "x"', r"missing \[\[rungs\]\]"),
    ("[[rungs]]\n" + RUNG.format(id="a", w=321, h=180, b=1000000), "size 321x180"),
    ("[[rungs]]\n" + RUNG.format(id="../etc", w=320, h=180, b=1000000), "rung id"),
    ("[[rungs]]\n" + RUNG.format(id="a", w=320, h=180, b=5), "bitrate 5"),
    ("[[rungs]]\n" + RUNG.format(id="a", w=320, h=180, b=100000) + 'profile = "extreme"\n', "profile"),
    ("[[rungs]]\n" + RUNG.format(id="a", w=320, h=180, b=100000) + "crf = 3\n", "unknown rung field"),
    ("[[rungs]]\n" + RUNG.format(id="a", w=640, h=360, b=100000) + "[[rungs]]\n"
     + RUNG.format(id="b", w=320, h=180, b=100000), "ascending"),
    ("[[rungs]]\n" + RUNG.format(id="a", w=320, h=180, b=100000) + "[[rungs]]\n"
     + RUNG.format(id="a", w=640, h=360, b=100000), "repeats a rung id"),
    ('codec = "av1"\n[[rungs]]\n' + RUNG.format(id="a", w=320, h=180, b=100000), "codec"),
])
def test_invalid_ladders_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        parse_ladder(text, source="test.toml")
    assert info.value.hint


def test_unknown_names_list_the_choices(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown ladder") as info:
        load_ladder("cinema")
    assert "default" in info.value.hint
    with pytest.raises(ConfigError, match="cannot read"):
        load_ladder(str(tmp_path / "missing.toml"))
