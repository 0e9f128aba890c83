from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import DEFAULT_API_URL, DEFAULT_GATEWAY_URL, ConfigError, Settings, load_settings

TOKEN = "MTA1NzY0ODQ5NTQ3NTc2MjIzOA.GxYz12.abcdefghijklmnopqrstuvwxyz0123456789AB"


def test_defaults_with_nothing_set(tmp_path):
    settings = load_settings({}, env_file=tmp_path / ".env")
    assert settings == Settings()
    assert settings.token is None
    assert settings.data_dir == Path("data")
    assert (settings.api_url, settings.gateway_url) == (DEFAULT_API_URL, DEFAULT_GATEWAY_URL)


def test_every_key_is_read(tmp_path):
    settings = load_settings(
        {
            "DISCORD_TOKEN": TOKEN,
            "DISCORD_GUILD_ID": "123456789012345678",
            "DATA_DIR": "/srv/statements",
            "LOG_LEVEL": "debug",
            "DISCORD_API_URL": "http://127.0.0.1:8080/api/v10/",
            "DISCORD_GATEWAY_URL": "ws://127.0.0.1:8080/gateway",
        },
        env_file=None,
    )
    assert settings.token == TOKEN
    assert settings.guild_id == 123456789012345678
    assert settings.data_dir == Path("/srv/statements")
    assert settings.log_level == "DEBUG"
    assert settings.api_url == "http://127.0.0.1:8080/api/v10"
    assert settings.gateway_url == "ws://127.0.0.1:8080/gateway"


def test_dotenv_is_read_and_a_real_variable_wins(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(f"DISCORD_TOKEN={TOKEN}\nLOG_LEVEL=WARNING\nDATA_DIR=from-dotenv\n")
    settings = load_settings({"DATA_DIR": "from-environment"}, env_file=env_file)
    assert settings.token == TOKEN
    assert settings.log_level == "WARNING"
    assert settings.data_dir == Path("from-environment")


def test_the_token_never_shows_in_repr_or_str():
    settings = Settings(token=TOKEN)
    assert TOKEN not in repr(settings)
    assert TOKEN not in str(settings)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("DISCORD_TOKEN", "not a token", "does not look like a bot token"),
        ("DISCORD_TOKEN", f"Bot {TOKEN}", "without the 'Bot ' prefix"),
        ("DISCORD_GUILD_ID", "my-server", "DISCORD_GUILD_ID must be a server ID"),
        ("DISCORD_GUILD_ID", "12", "DISCORD_GUILD_ID must be a server ID"),
        ("LOG_LEVEL", "loud", "LOG_LEVEL must be one of"),
        ("DISCORD_API_URL", "discord.com/api", "DISCORD_API_URL must be a http:// or https:// URL"),
        (
            "DISCORD_GATEWAY_URL",
            "http://127.0.0.1/gw",
            "DISCORD_GATEWAY_URL must be a ws:// or wss:// URL",
        ),
    ],
)
def test_each_bad_value_is_one_line_naming_the_key(key, value, message):
    with pytest.raises(ConfigError, match=message) as error:
        load_settings({key: value}, env_file=None)
    assert "\n" not in str(error.value)
    assert value not in str(error.value) or key != "DISCORD_TOKEN"


def test_blank_values_mean_unset():
    settings = load_settings({"DISCORD_TOKEN": "  ", "DISCORD_GUILD_ID": ""}, env_file=None)
    assert settings.token is None and settings.guild_id is None


def test_env_example_documents_every_key():
    example = (Path(__file__).resolve().parent.parent / ".env.example").read_text()
    for key in (
        "DISCORD_TOKEN",
        "DISCORD_GUILD_ID",
        "DATA_DIR",
        "LOG_LEVEL",
        "DISCORD_API_URL",
        "DISCORD_GATEWAY_URL",
    ):
        assert f"{key}=" in example


def test_operations_settings(tmp_path):
    settings = load_settings(
        {
            "SHUTDOWN_GRACE_SECONDS": "2.5",
            "STARTUP_RETRY_SECONDS": "0",
            "SHARD_COUNT": "4",
            "SHARD_IDS": "0, 2-3",
        },
        env_file=None,
    )
    assert (settings.shutdown_grace_seconds, settings.startup_retry_seconds) == (2.5, 0.0)
    assert (settings.shard_count, settings.shard_ids) == (4, (0, 2, 3))
    every = load_settings({"SHARD_COUNT": "2"}, env_file=None)
    assert (every.shard_count, every.shard_ids) == (2, (0, 1))
    assert load_settings({}, env_file=None).shard_count is None


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"SHUTDOWN_GRACE_SECONDS": "soon"}, "SHUTDOWN_GRACE_SECONDS must be a number of seconds"),
        ({"STARTUP_RETRY_SECONDS": "-1"}, "STARTUP_RETRY_SECONDS must be a number of seconds"),
        ({"SHARD_IDS": "0"}, "SHARD_IDS needs SHARD_COUNT"),
        ({"SHARD_COUNT": "0"}, "SHARD_COUNT must be a whole number"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "2"}, "from 0 to 1 .SHARD_COUNT is 2."),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "1,1"}, "must name different shards"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "a-b"}, 'like "0,1" or "0-3"'),
    ],
)
def test_bad_operations_settings_are_one_line(values, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(values, env_file=None)
