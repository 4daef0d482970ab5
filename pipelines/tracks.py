"""Track files: a CMAF track as one playable file (init + segments joined), for ffprobe and ffmpeg."""

from __future__ import annotations

from pathlib import Path

from pipelines.presentation import Track


def segment_paths(root: Path, track: Track) -> list[Path]:
    folder = root / track.path
    return [folder / track.init, *(folder / s.uri for s in track.segments)]


def join_track(root: Path, track: Track, dest_folder: Path) -> Path:
    """init + every segment concatenated: a valid fragmented MP4 of the whole rendition."""
    kind = track.path.split("/", 1)[0]
    dest = dest_folder / f"{kind}_{track.id}.mp4"
    with dest.open("wb") as out:
        for part in segment_paths(root, track):
            out.write(part.read_bytes())
    return dest
