"""A refused VODFLEET_* variable is a coded error naming the variable, its value and the rule, for every command
(a helper following the README met a pydantic traceback and exit 1 for VODFLEET_CONCURRENCY=abc)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from workers.api.settings import ApiSettings
from workers.errors import SettingsInvalid
from workers.exitcodes import EXIT_CONFIG
from workers.settings import Settings


@pytest.mark.parametrize(("variable", "value", "rule"), [
    ("VODFLEET_CONCURRENCY", "abc", "valid integer"),
    ("VODFLEET_CONCURRENCY", "0", "greater than or equal to 1"),
    ("VODFLEET_LEASE_TTL", "soon", "valid number"),
    ("VODFLEET_BROKER_URL", "bogus://x", "scheme must be one of filesystem://"),
    ("VODFLEET_STORAGE_URI", "ftp://x/y", "scheme must be one of file://, s3://"),
    ("vodfleet_store_url", "postgres://x", "scheme must be one of sqlite://"),  # names match in any case
])
def test_a_refused_variable_is_named_with_its_value_and_rule(monkeypatch: pytest.MonkeyPatch, variable: str,
                                                              value: str, rule: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsInvalid) as refused:
        Settings()
    assert f"{variable.upper()}={value!r}: " in refused.value.message and rule in refused.value.message
    assert refused.value.code == "settings_invalid" and not refused.value.retryable
    assert "README" in (refused.value.hint or "")


def test_a_secret_is_not_repeated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VODFLEET_S3_SECRET_KEY", "hunter2")
    with pytest.raises(SettingsInvalid) as refused:
        Settings()  # the access key is missing
    assert "hunter2" not in refused.value.message and "VODFLEET_S3_ACCESS_KEY" in refused.value.message


def test_keywords_win_over_the_environment_and_are_named_as_keywords(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VODFLEET_CONCURRENCY", "abc")
    assert Settings(concurrency=3).concurrency == 3  # (pydantic-settings' order: keywords, environment, defaults)
    monkeypatch.delenv("VODFLEET_CONCURRENCY")
    with pytest.raises(SettingsInvalid, match="concurrency='x'"):
        Settings(concurrency="x")  # type: ignore[arg-type]


def test_the_api_settings_refuse_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VODFLEET_API_SUBMIT_RATE", "-1")
    with pytest.raises(SettingsInvalid, match="VODFLEET_API_SUBMIT_RATE='-1': Input should be greater than 0"):
        ApiSettings()


@pytest.mark.parametrize("command", [["submit", "key:masters/x.mp4", "--json"], ["jobs"], ["worker"]])
def test_every_command_refuses_to_start_with_the_coded_error(tmp_path: Path, command: list[str]) -> None:
    env = {**os.environ, "VODFLEET_STATE_DIR": str(tmp_path), "VODFLEET_CONCURRENCY": "abc"}
    done = subprocess.run([sys.executable, "-m", "workers.cli", *command], env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == EXIT_CONFIG, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "error [settings_invalid]: settings refused: VODFLEET_CONCURRENCY='abc'" in done.stderr
    assert "what to do: fix or unset the named variables" in done.stderr
    if "--json" in command:
        assert json.loads(done.stdout)["error"]["code"] == "settings_invalid"
