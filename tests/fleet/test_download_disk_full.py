"""A download onto a full local disk is the worker's scratch problem (`scratch_unavailable`), not the storage's:
every backend, onto a real tmpfs that is too small."""

from __future__ import annotations

import gc
import os
import warnings
from pathlib import Path

import pytest
from fleetkit import tiny_disk

from pipelines.errors import ScratchError
from workers.storage.base import Storage


def test_a_download_onto_a_full_disk_is_a_scratch_error(storage: Storage, tmp_path: Path) -> None:
    storage.put_bytes("masters/big/ep.mp4", os.urandom(1 << 20))
    with tiny_disk(tmp_path / "tiny") as scratch:
        with pytest.raises(ScratchError) as caught:
            storage.get_file("masters/big/ep.mp4", scratch / "in" / "ep.mp4")
        assert caught.value.code == "scratch_unavailable"
        assert caught.value.retryable is True
        assert "masters/big/ep.mp4" in caught.value.message
        assert [p for p in scratch.rglob("*") if p.is_file()] == []  # the partial download is gone
    # s3transfer stops reading the GetObject body when its writer fails and never closes it: collect that
    # connection here, knowingly, rather than have it reported at exit as this test's leak
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()
