"""How storyboards are cut: the options a job or the CLI gives (`pipelines.storyboard` makes them). Pure and light:
`vodfleet submit` validates a JobSpec's thumbnail options with it without loading the storyboard's ffmpeg code."""

from __future__ import annotations

import math
from dataclasses import dataclass

from pipelines.errors import ConfigError


@dataclass(frozen=True)
class StoryboardOptions:
    """How storyboards are cut. Defaults: one tile every 2 s, 160 px wide, 10x10 tiles per sheet."""

    interval: float = 2.0  # seconds between tiles (> 0)
    tile_width: int = 160  # pixels; the height keeps the display aspect (even)
    columns: int = 10
    rows: int = 10
    enabled: bool = True

    def __post_init__(self) -> None:
        if not (self.interval > 0 and math.isfinite(self.interval)):
            raise ConfigError(f"storyboard interval {self.interval!r} is not a positive number of seconds",
                              hint="use e.g. --thumbnail-interval 2")
        if not 16 <= self.tile_width <= 1280:
            raise ConfigError(f"storyboard tile width {self.tile_width} is outside 16..1280 pixels",
                              hint="use e.g. --thumbnail-width 160")
        if not (1 <= self.columns <= 50 and 1 <= self.rows <= 50):
            raise ConfigError(f"storyboard grid {self.columns}x{self.rows} is outside 1x1..50x50",
                              hint="use e.g. --thumbnail-grid 10x10")
