"""Workspace: where a run writes, so that a failed, killed or interrupted run leaves nothing behind.

The output is built in a hidden sibling folder (same filesystem) and renamed into place only when
every check passed; scratch (ffmpeg's own playlists, extracted subtitles, QC files) lives apart and
is always removed.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pipelines.errors import ConfigError, ScratchError

STAGING_PREFIX = ".vodfleet-staging-"
SCRATCH_PREFIX = "vodfleet-scratch-"
MIN_FREE_BYTES = 1 << 20  # less than this left after an encode: the disk filled up during it


def remove_abandoned(folder: Path, prefix: str) -> list[Path]:
    """Delete `<prefix><pid>-*` folders whose process is gone (a run that was SIGKILLed or lost power)."""
    removed = []
    for candidate in folder.glob(f"{prefix}*"):
        # mkdtemp's random suffix has no "-": "<prefix><pid>-<random>", and nothing else, is ours
        pid_text, _, _random = candidate.name[len(prefix):].rpartition("-")
        if not pid_text.isdigit() or not candidate.is_dir() or _alive(int(pid_text)):
            continue
        shutil.rmtree(candidate, ignore_errors=True)
        removed.append(candidate)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


@dataclass(frozen=True)
class Workspace:
    output: Path  # the final path, absent until commit
    staging: Path  # the output being built
    scratch: Path  # never published

    def check_space(self, min_free: int = MIN_FREE_BYTES) -> None:
        """ScratchError if the disk holding staging or scratch is (nearly) full.

        ffmpeg's hls muxer meets ENOSPC by exiting 0 with truncated segments and no message, so a
        successful exit is not proof; a disk left with almost nothing free after an encode is.
        """
        for folder in (self.staging, self.scratch):
            try:
                free = shutil.disk_usage(folder).free
            except OSError as exc:
                raise _classify(exc, folder) from exc
            if free < min_free:
                raise ScratchError(f"the disk holding {folder} is full ({free} bytes free after the encode)",
                                   hint="free disk space or point the output/scratch elsewhere, then retry")

    def commit(self, *, replace: bool = False) -> Path:
        """Rename staging into place (atomic on one filesystem)."""
        if self.output.exists():
            if not replace:
                raise ConfigError(f"{self.output} already exists",
                                  hint="choose another output folder or pass --overwrite")
            trash = self.output.with_name(f"{STAGING_PREFIX}old-{self.output.name}-{os.getpid()}")
            self.output.rename(trash)
            self.staging.rename(self.output)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            self.staging.rename(self.output)
        return self.output


@contextlib.contextmanager
def workspace(output: Path, *, scratch_root: Path | None = None, replace: bool = False) -> Iterator[Workspace]:
    """Yield a Workspace; on any exit the staging and scratch folders are gone (committed or removed)."""
    output = output.absolute()
    if output.exists() and not replace:
        raise ConfigError(f"{output} already exists", hint="choose another output folder or pass --overwrite")
    pid = os.getpid()
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        remove_abandoned(output.parent, f"{STAGING_PREFIX}{output.name}-")
        remove_abandoned(Path(scratch_root or tempfile.gettempdir()), SCRATCH_PREFIX)
        staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{output.name}-{pid}-", dir=output.parent))
        scratch = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{pid}-", dir=scratch_root))
    except OSError as exc:
        raise _classify(exc, output.parent) from exc
    try:
        yield Workspace(output=output, staging=staging, scratch=scratch)
    except OSError as exc:
        raise _classify(exc, staging) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)


def _classify(exc: OSError, where: Path) -> Exception:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return ScratchError(f"no space left on the device holding {where}",
                            hint="free disk space or point the output/scratch elsewhere, then retry")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return ConfigError(f"cannot write to {where}: {exc.strerror}",
                           hint="choose a writable output folder")
    return ScratchError(f"file system error at {where}: {exc.strerror}", hint="check the disk and retry")
