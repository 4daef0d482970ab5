"""LocalStorage: a directory acting as a bucket (a laptop's outputs, a shared volume, the tests' second backend).

- Writes land in a temporary file beside the target (``.<name>.~<hex>``: "~" can never occur in a key, so
  listings skip it) and are renamed into place: readers see the old bytes or the new ones, never a mix.
- ``if_none_match=True`` publishes with ``os.link`` (fails if the name exists): create-only, atomic, and the
  object is complete the moment it appears.
- ETags are the sha256 of the content (cached per inode, size and mtime, so listings stay cheap).
- Keys are validated, every existing path component is checked not to be a symlink, and resolved paths must
  stay under the root: no key escapes the folder.
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from workers.errors import (
    AccessDenied,
    ChecksumMismatch,
    KeyInvalid,
    ObjectNotFound,
    PreconditionFailed,
    StorageError,
    StorageUnavailable,
)
from workers.keys import validate_key, validate_prefix
from workers.storage.base import ObjectInfo, scratch_full
from workers.storage.digest import digest_bytes, digest_file

TEMP_MARK = ".~"  # temp files are ".<name>.~<hex>"; "~" is not a key character


class LocalStorage:
    """A folder as a bucket. The constructor does no I/O; the root is created by the first write."""

    def __init__(self, root: Path) -> None:
        self.root = Path(os.path.normpath(Path(root).absolute()))
        self.uri = self.root.as_uri()
        self._etags: dict[tuple[int, int, int, int], str] = {}
        self._etags_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    # --- paths -----------------------------------------------------------------------------------

    def _path(self, key: str) -> Path:
        validate_key(key)
        path = self.root.joinpath(*key.split("/"))
        probe = self.root
        for part in key.split("/"):
            probe = probe / part
            if probe.is_symlink():
                raise AccessDenied(f"key {key!r} passes through a symbolic link in {self.root}",
                                   hint="local storage never follows links out of its root")
        return path

    def _check_inside(self, path: Path, key: str) -> None:
        real_root = Path(os.path.realpath(self.root))
        if not Path(os.path.realpath(path)).is_relative_to(real_root):
            raise AccessDenied(f"key {key!r} resolves outside {self.root}", hint="remove the link")

    def _info(self, key: str, path: Path) -> ObjectInfo:
        stat = path.stat()
        identity = (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)
        with self._etags_lock:
            etag = self._etags.get(identity)
        if etag is None:
            etag = digest_file(path).sha256_hex
            with self._etags_lock:
                self._etags[identity] = etag
        return ObjectInfo(key=key, size=stat.st_size, etag=etag)

    # --- writes ----------------------------------------------------------------------------------

    def _prepare_parent(self, key: str, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError) as exc:
            raise KeyInvalid(f"key {key!r} lies under an existing object",
                             hint="local storage cannot hold both 'a/b' and 'a/b/...'") from exc
        except OSError as exc:
            raise _translate(exc, key) from exc
        self._check_inside(path.parent, key)

    def _temp_for(self, path: Path) -> Path:
        return path.with_name(f".{path.name}{TEMP_MARK}{secrets.token_hex(6)}")

    def _commit(self, key: str, temp: Path, path: Path, *, if_none_match: bool) -> None:
        try:
            if if_none_match:
                try:
                    os.link(temp, path)
                except FileExistsError as exc:
                    raise PreconditionFailed(f"object {key!r} already exists in {self.uri}",
                                             hint="another writer created it first") from exc
            elif path.is_dir():
                raise KeyInvalid(f"key {key!r} is a folder of other objects",
                                 hint="local storage cannot hold both 'a/b' and 'a/b/...'")
            else:
                temp.replace(path)
        except OSError as exc:
            raise _translate(exc, key) from exc
        finally:
            temp.unlink(missing_ok=True)

    def put_bytes(self, key: str, data: bytes, *, content_type: str | None = None,
                  if_none_match: bool = False) -> ObjectInfo:
        del content_type  # a folder keeps no metadata; readers infer types from the names
        path = self._path(key)
        self._prepare_parent(key, path)
        temp = self._temp_for(path)
        try:
            with temp.open("xb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
        except OSError as exc:
            temp.unlink(missing_ok=True)
            raise _translate(exc, key) from exc
        self._commit(key, temp, path, if_none_match=if_none_match)
        return ObjectInfo(key=key, size=len(data), etag=digest_bytes(data).sha256_hex)

    def put_file(self, key: str, path: Path, *, content_type: str | None = None) -> ObjectInfo:
        del content_type
        target = self._path(key)
        self._prepare_parent(key, target)
        temp = self._temp_for(target)
        try:
            shutil.copyfile(path, temp)
        except FileNotFoundError as exc:
            temp.unlink(missing_ok=True)
            raise ObjectNotFound(f"local file {path} does not exist", hint="nothing to upload") from exc
        except OSError as exc:
            temp.unlink(missing_ok=True)
            raise _translate(exc, key) from exc
        source, copied = digest_file(path), digest_file(temp)
        if source != copied:
            temp.unlink(missing_ok=True)
            raise ChecksumMismatch(f"copy of {path} to {key!r} differs from its source",
                                   hint="the source changed while it was copied; try again")
        self._commit(key, temp, target, if_none_match=False)
        return ObjectInfo(key=key, size=copied.size, etag=copied.sha256_hex)

    # --- reads -----------------------------------------------------------------------------------

    def _existing(self, key: str) -> Path:
        path = self._path(key)
        if not path.is_file():
            raise ObjectNotFound(f"object {key!r} does not exist in {self.uri}")
        self._check_inside(path, key)
        return path

    def get_bytes(self, key: str) -> bytes:
        path = self._existing(key)
        try:
            return path.read_bytes()
        except FileNotFoundError as exc:  # deleted between the check and the read
            raise ObjectNotFound(f"object {key!r} does not exist in {self.uri}") from exc
        except OSError as exc:
            raise _translate(exc, key) from exc

    def get_file(self, key: str, path: Path) -> ObjectInfo:
        source = self._existing(key)
        temp = self._temp_for(Path(os.path.normpath(Path(path).absolute())))
        try:
            temp.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, temp)
            info = ObjectInfo(key=key, size=temp.stat().st_size, etag=digest_file(temp).sha256_hex)
            temp.replace(path)
        except FileNotFoundError as exc:
            raise ObjectNotFound(f"object {key!r} does not exist in {self.uri}") from exc
        except OSError as exc:
            raise (scratch_full(exc, key, temp) or _translate(exc, key)) from exc
        finally:
            temp.unlink(missing_ok=True)
        return info

    def head(self, key: str) -> ObjectInfo | None:
        path = self._path(key)
        try:
            if not path.is_file():
                return None
            self._check_inside(path, key)
            return self._info(key, path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise _translate(exc, key) from exc

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        """Objects whose key starts with `prefix` (plain string prefix, as on S3), sorted by key."""
        if prefix:
            validate_prefix(prefix)
        folder = prefix.rpartition("/")[0]
        start = self._path(folder) if folder else self.root
        if not start.is_dir():
            return iter(())
        self._check_inside(start, prefix)
        keys: list[str] = []
        for directory, dirnames, filenames in os.walk(start):  # os.walk does not follow links
            dirnames[:] = [name for name in dirnames if not Path(directory, name).is_symlink()]
            for name in filenames:
                full = Path(directory, name)
                key = full.relative_to(self.root).as_posix()
                if TEMP_MARK in name or full.is_symlink() or not key.startswith(prefix):
                    continue
                try:
                    keys.append(validate_key(key))
                except KeyInvalid:
                    continue  # a file someone put there by hand with an unsafe name: not an object
        return self._infos(sorted(keys))

    def _infos(self, keys: Sequence[str]) -> Iterator[ObjectInfo]:
        for key in keys:
            try:
                yield self._info(key, self.root / key)
            except FileNotFoundError:
                continue  # deleted while listing

    def delete(self, key: str) -> None:
        """Delete an object (deleting a missing key is not an error, as on S3); prune empty folders."""
        path = self._path(key)
        try:
            path.unlink()
        except FileNotFoundError:
            return
        except IsADirectoryError:
            return  # a "folder" is not an object
        except OSError as exc:
            raise _translate(exc, key) from exc
        parent = path.parent
        while parent != self.root and parent.is_relative_to(self.root):
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent

    def presigned_url(self, key: str, *, expires: int = 3600) -> str:
        """A file:// URI (local files need no signature; `expires` is accepted for the Protocol)."""
        del expires
        return self._existing(key).as_uri()

    def abort_incomplete_uploads(self, prefix: str = "") -> int:
        """Remove temp files left by killed writers in the folder holding `prefix`; return how many.

        Call it when no writer is active there (the publisher calls it for its own version after a failure).
        """
        if prefix:
            validate_prefix(prefix)
        folder = prefix.rpartition("/")[0]
        start = self._path(folder) if folder else self.root
        removed = 0
        if not start.is_dir():
            return 0
        for directory, dirnames, filenames in os.walk(start):
            dirnames[:] = [name for name in dirnames if not Path(directory, name).is_symlink()]
            for name in filenames:
                if TEMP_MARK in name:
                    Path(directory, name).unlink(missing_ok=True)
                    removed += 1
        return removed


def _translate(exc: OSError, key: str) -> StorageError:
    if isinstance(exc, PermissionError):
        return AccessDenied(f"permission denied for {key!r}: {exc.strerror}", hint="check the folder's owner and mode")
    if isinstance(exc, FileNotFoundError):
        return ObjectNotFound(f"object {key!r} does not exist ({exc.strerror})")
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return StorageUnavailable(f"no space left writing {key!r}", hint="free disk space, then retry")
    return StorageUnavailable(f"local storage failed on {key!r}: {exc}", hint="check the disk")
