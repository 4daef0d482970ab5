"""Finding the player libraries (workers/preview/library.py) and what `vodfleet preview` says without them."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from workers.cli.commands import preview
from workers.exitcodes import EXIT_CONFIG, EXIT_USAGE
from workers.preview.errors import LibrariesMissing
from workers.preview.library import ENV_VAR, LIBRARIES, candidate_dirs, find_libraries

CHECKOUT = Path("/src/vodfleet")
CWD = Path("/home/me/episodes")


@pytest.mark.parametrize(("explicit", "environ", "expected"), [
    (Path("/opt/nm"), {ENV_VAR: "/env/nm"}, [Path("/opt/nm")]),
    (None, {ENV_VAR: "/env/nm"}, [Path("/env/nm")]),
    (None, {}, [CHECKOUT / "node_modules", CWD / "node_modules"]),
    (None, {ENV_VAR: ""}, [CHECKOUT / "node_modules", CWD / "node_modules"]),
])
def test_candidate_dirs(explicit: Path | None, environ: dict[str, str], expected: list[Path]) -> None:
    assert candidate_dirs(explicit, environ, CHECKOUT, CWD) == expected


def test_cwd_is_not_listed_twice() -> None:
    assert candidate_dirs(None, {}, CWD, CWD) == [CWD / "node_modules"]


def _install(modules: Path, *, skip: str = "") -> None:
    for name, rel in LIBRARIES.items():
        if name != skip:
            (modules / rel).parent.mkdir(parents=True, exist_ok=True)
            (modules / rel).write_text("", encoding="utf-8")


def test_found_libraries_are_the_packages_browser_builds(tmp_path: Path) -> None:
    _install(tmp_path)
    found = find_libraries(tmp_path)
    assert found == {"hls.js": tmp_path / "hls.js/dist/hls.min.js",
                     "shaka-player.js": tmp_path / "shaka-player/dist/shaka-player.compiled.js"}


def test_a_missing_library_says_to_run_npm_ci(tmp_path: Path) -> None:
    _install(tmp_path, skip="shaka-player.js")
    with pytest.raises(LibrariesMissing) as caught:
        find_libraries(tmp_path)
    assert "npm ci" in caught.value.hint
    assert "shaka-player/dist/shaka-player.compiled.js" in caught.value.message


def _args(output: Path, node_modules: Path) -> argparse.Namespace:
    return argparse.Namespace(output=output, node_modules=node_modules, host="127.0.0.1", port=0)


def test_command_without_node_modules_fails_with_npm_ci(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "master.m3u8").write_text("#EXTM3U\n", encoding="utf-8")
    assert preview.run(_args(out, tmp_path / "node_modules")) == EXIT_CONFIG
    err = capsys.readouterr().err
    assert "player_libraries_missing" in err
    assert "run `npm ci`" in err


def test_command_on_a_folder_that_is_not_an_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _install(tmp_path / "node_modules")
    assert preview.run(_args(tmp_path / "missing", tmp_path / "node_modules")) == EXIT_USAGE
    assert "not a folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert preview.run(_args(tmp_path / "empty", tmp_path / "node_modules")) == EXIT_USAGE
    assert "neither master.m3u8 nor manifest.mpd" in capsys.readouterr().err
