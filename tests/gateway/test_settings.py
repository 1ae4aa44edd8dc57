"""Settings: defaults < file < environment < flags, in one place; the API key read once."""

from __future__ import annotations

from pathlib import Path

import pytest

from bastion.core.errors import ConfigError
from bastion.core.types import Action
from bastion.gateway import create_app, load_settings


def test_defaults() -> None:
    settings = load_settings(environ={})
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.upstream.target == "embedded"
    assert settings.block_output_at is Action.REFUSE
    assert settings.guard.context == "general"


def test_precedence_file_then_environment_then_flags(tmp_path: Path) -> None:
    file = tmp_path / "gateway.yaml"
    file.write_text("host: 0.0.0.0\nport: 9000\nupstream: {target: scripted, threads: 1}\n")
    env = {"BASTION_GATEWAY_PORT": "9100"}
    settings = load_settings(file, environ=env, overrides={"host": "127.0.0.2", "port": None})
    assert settings.host == "127.0.0.2"  # flag beats file
    assert settings.port == 9100  # environment beats file; a None flag is ignored
    assert settings.upstream.target == "scripted"
    assert settings.upstream.threads == 1


def test_settings_file_from_environment_and_guard_config(tmp_path: Path) -> None:
    guard = tmp_path / "guard.yaml"
    guard.write_text("context: minors\n")
    file = tmp_path / "gateway.yaml"
    file.write_text(f"guard_config: {guard}\n")
    settings = load_settings(environ={"BASTION_GATEWAY_SETTINGS": str(file)})
    assert settings.guard.context == "minors"


def test_guard_file_flag_beats_the_settings_file(tmp_path: Path) -> None:
    minors, medical = tmp_path / "a.yaml", tmp_path / "b.yaml"
    minors.write_text("context: minors\n")
    medical.write_text("context: medical\n")
    file = tmp_path / "gateway.yaml"
    file.write_text(f"guard_config: {minors}\n")
    assert load_settings(file, guard_file=medical, environ={}).guard.context == "medical"


def test_api_key_is_read_from_the_named_variable_once() -> None:
    env = {
        "BASTION_GATEWAY_UPSTREAM": "https://llm.example/v1",
        "BASTION_GATEWAY_UPSTREAM_API_KEY_ENV": "MY_KEY",
        "MY_KEY": "sk-secret",
    }
    settings = load_settings(environ=env)
    assert settings.upstream_api_key is not None
    assert settings.upstream_api_key.get_secret_value() == "sk-secret"
    assert "sk-secret" not in repr(settings)
    assert "sk-secret" not in settings.model_dump_json()


@pytest.mark.parametrize(
    ("overrides", "where"),
    [
        ({"port": 70000}, "port"),
        ({"upstream.target": "ftp://x"}, "upstream"),
        ({"stream.window": 10, "stream.check_every": 20}, "stream"),
        ({"bogus": 1}, "bogus"),
    ],
)
def test_invalid_values_are_config_errors(overrides: dict[str, object], where: str) -> None:
    with pytest.raises(ConfigError, match=where):
        load_settings(environ={}, overrides=overrides)


def test_unreadable_or_bad_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path / "missing.yaml", environ={})
    bad = tmp_path / "bad.yaml"
    bad.write_text("- a list\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_settings(bad, environ={})


def test_api_key_mapped_to_an_unknown_context_refuses_to_start() -> None:
    settings = load_settings(
        environ={}, overrides={"upstream.target": "scripted", "api_key_contexts": {"k": "nope"}}
    )
    with pytest.raises(ConfigError, match="unknown contexts"):
        create_app(settings)


def test_access_log_from_environment() -> None:
    assert load_settings(environ={}).access_log is True
    assert load_settings(environ={"BASTION_GATEWAY_ACCESS_LOG": "false"}).access_log is False
