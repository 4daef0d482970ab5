"""Pure parts of the CLI: the exit-code table, the progress line, the subcommand registry."""

from __future__ import annotations

import pytest

from pipelines.errors import (
    Cancelled,
    ConfigError,
    FFmpegFailed,
    FFmpegTimeout,
    QCFailed,
    ScratchError,
    SourceRejected,
    SubtitleRejected,
    ToolMissing,
)
from pipelines.progress import Progress
from pipelines.transcode import Event
from workers.cli.command import build_parser
from workers.cli.console import format_eta, render_line
from workers.exitcodes import exit_code


@pytest.mark.parametrize(("error", "code"), [
    (SourceRejected("a.mp4", "empty", hint="h"), 3),
    (SubtitleRejected("a.srt", "bad", hint="h"), 3),
    (FFmpegFailed(["ffmpeg"], 1, "boom"), 4),
    (FFmpegTimeout(["ffmpeg"], -9, ""), 4),
    (QCFailed([]), 5),
    (ConfigError("x"), 6),
    (ToolMissing("x"), 6),
    (ScratchError("x"), 6),
    (Cancelled("x"), 130),
    (KeyboardInterrupt(), 130),
])
def test_exit_codes(error: BaseException, code: int) -> None:
    assert exit_code(error) == code


def test_progress_line() -> None:
    line = render_line(Event("encoding", Progress(5.0, 125, 1.5, 50.0, 3.2)))
    assert line == "encoding [##############..............]  50.0%  1.50x  ETA 00:03"
    assert render_line(Event("qc")) == "qc…"
    assert render_line(Event("done")) == "done"
    assert format_eta(None) == "--:--"
    assert format_eta(3725) == "1:02:05"


def test_every_command_module_registers() -> None:
    parser = build_parser()
    args = parser.parse_args(["transcode", "x.mp4", "-o", "out"])
    assert callable(args.func)


def test_dash_vtt_sidecar_is_an_opt_in_of_transcode_and_submit() -> None:
    from workers.cli.commands.transcode import request_from

    parser = build_parser()
    assert request_from(parser.parse_args(["transcode", "x.mp4", "-o", "out"])).dash_vtt_sidecar is False
    opted = parser.parse_args(["transcode", "x.mp4", "-o", "out", "--dash-vtt-sidecar"])
    assert request_from(opted).dash_vtt_sidecar is True
    assert parser.parse_args(["submit", "x.mp4"]).dash_vtt_sidecar is False
    assert parser.parse_args(["submit", "x.mp4", "--dash-vtt-sidecar"]).dash_vtt_sidecar is True
