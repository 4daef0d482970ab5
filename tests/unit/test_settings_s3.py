"""S3 settings: read from VODFLEET_S3_* variables, validated at construction, applied to every s3:// location."""

from __future__ import annotations

import pytest

from workers.errors import SettingsInvalid
from workers.settings import Settings
from workers.storage import LocalStorage, S3Storage, s3_options, storage_for


def test_s3_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VODFLEET_STORAGE_URI", "s3://media/fleet")
    monkeypatch.setenv("VODFLEET_S3_ENDPOINT_URL", "http://127.0.0.1:8333")
    monkeypatch.setenv("VODFLEET_S3_ACCESS_KEY", "AKIDEXAMPLE")
    monkeypatch.setenv("VODFLEET_S3_SECRET_KEY", "s3cr3t")
    monkeypatch.setenv("VODFLEET_S3_MAX_ATTEMPTS", "7")
    settings = Settings()
    assert s3_options(settings) == {"endpoint_url": "http://127.0.0.1:8333", "region": "us-east-1",
                                    "access_key": "AKIDEXAMPLE", "secret_key": "s3cr3t", "max_attempts": 7}
    assert "s3cr3t" not in repr(settings)
    storage = storage_for(settings)
    assert isinstance(storage, S3Storage)
    assert (storage.uri, storage.endpoint_url) == ("s3://media/fleet", "http://127.0.0.1:8333")
    other = storage_for(settings, "s3://masters-bucket")  # a job's s3:// source: same endpoint and keys
    assert isinstance(other, S3Storage) and other.endpoint_url == "http://127.0.0.1:8333"


def test_local_storage_ignores_s3_settings(tmp_path: object) -> None:
    settings = Settings(state_dir=str(tmp_path), s3_endpoint_url="http://127.0.0.1:8333")
    assert isinstance(storage_for(settings), LocalStorage)


@pytest.mark.parametrize(("fields", "message"), [
    ({"s3_endpoint_url": "127.0.0.1:8333"}, "s3_endpoint_url='127.0.0.1:8333': must start with http:// or https://"),
    ({"s3_access_key": "AKIDEXAMPLE"}, "set both"),
    ({"s3_secret_key": "s3cr3t"}, "set both"),
    ({"s3_max_attempts": 0}, "s3_max_attempts=0: Input should be greater than or equal to 1"),
])
def test_invalid_s3_settings_name_the_field(fields: dict[str, object], message: str) -> None:
    with pytest.raises(SettingsInvalid, match=message) as refused:
        Settings(**fields)  # type: ignore[arg-type]
    assert refused.value.code == "settings_invalid" and "s3cr3t" not in refused.value.message
