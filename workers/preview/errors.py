"""Why a preview cannot start (both permanent: fix the folder or the install, then run it again).

    WorkerError (workers.errors)
    ├── NotAnOutput           OUT is missing, not a folder, or has neither master.m3u8 nor manifest.mpd
    └── LibrariesMissing      hls.js / Shaka Player are not installed (``npm ci`` was not run)
"""

from __future__ import annotations

from workers.errors import WorkerError


class NotAnOutput(WorkerError):
    code = "preview_not_an_output"


class LibrariesMissing(WorkerError):
    code = "player_libraries_missing"
