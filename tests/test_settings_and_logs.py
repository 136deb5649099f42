"""Settings from the environment, and secrets kept out of every log line."""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

import pytest

from adapters.launch import log_patterns
from adapters.registry import PLATFORMS, configured
from adapters.slack.settings import SlackSettings
from bot.config import Settings, SettingsError
from bot.logs import setup_logging

ROOT = Path(__file__).resolve().parent.parent


def test_defaults_and_overrides() -> None:
    assert Settings.from_env({}) == Settings()
    settings = Settings.from_env(
        {
            "PAPERBOY_DB": "/data/p.db",
            "POLL_INTERVAL": "60",
            "MAX_POSTS_PER_POLL": "3",
            "PAPERBOY_ADMINS": "U1, U2 ,",
            "UP_EMOJI": "rocket,+1",
        }
    )
    assert settings.db_path == "/data/p.db" and settings.poll_interval == 60.0
    assert settings.max_posts_per_poll == 3 and settings.admins == {"U1", "U2"}
    assert settings.up_emoji == ("rocket", "+1")


def test_each_platform_reads_its_own_settings() -> None:
    env = {"SLACK_BOT_TOKEN": "", "SLACK_APP_TOKEN": "xapp-1-a", "PORT": "8080"}
    slack, discord = configured(env)
    assert slack.settings == SlackSettings(app_token="xapp-1-a", port=8080)
    assert not slack.enabled and not discord.enabled  # no bot token: not started
    assert slack.settings.secrets() == ("xapp-1-a",)  # still kept out of the log
    assert configured({"DISCORD_TOKEN": "a.b.c"})[1].enabled


def test_a_bad_value_names_the_setting() -> None:
    with pytest.raises(SettingsError, match="POLL_INTERVAL"):
        Settings.from_env({"POLL_INTERVAL": "often"})


def test_env_example_documents_every_setting() -> None:
    documented = set(
        re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE)
    )
    names = {*Settings.env_names(), *(name for p in PLATFORMS for name in p.env_names)}
    assert names <= documented, names - documented
    assert documented <= names, documented - names  # nothing stale either


@pytest.fixture
def restore_logging():
    """setup_logging configures the process's loggers; put them back for the next tests."""
    names = ["", "httpx", "httpcore", "aiohttp.access", "slack_bolt", "slack_sdk", "discord"]
    levels = {name: logging.getLogger(name).level for name in names}
    handlers = list(logging.getLogger().handlers)
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    logging.getLogger().handlers[:] = handlers


def test_tokens_never_reach_the_log(restore_logging) -> None:
    stream = io.StringIO()
    token = "xoxb-1234567890-secret-token-value"
    discord = "MTIzNDU2Nzg5MDEyMzQ1Njc4.Gabcde.discord-secret-value"
    patterns = log_patterns(configured({}))  # every platform's, enabled or not
    setup_logging("DEBUG", [token, discord], stream, patterns=patterns)
    log = logging.getLogger("paperboy.test.secrets")
    log.setLevel(logging.DEBUG)  # other tests may have quietened a parent logger
    log.info("calling chat.postMessage with %s", token)
    try:
        raise RuntimeError(f"invalid_auth for {discord}")
    except RuntimeError:
        log.exception("request failed")
    log.warning("some other xapp-1-A0B1C2-shape token and xoxp-9-9-9")
    output = stream.getvalue()
    assert "calling chat.postMessage with [redacted]" in output
    assert token not in output and discord not in output
    assert "xapp-1" not in output and "xoxp-9" not in output
    assert "RuntimeError" in output  # the traceback is still there, minus the secret


def test_database_url_selects_postgresql_and_its_password_is_a_secret() -> None:
    settings = Settings.from_env({"DATABASE_URL": "postgresql://pb:s3cret@db.internal:5433/pb"})
    assert settings.database_label == "postgresql://db.internal:5433/pb"
    assert "s3cret" in settings.secrets()
    assert "s3cret" not in repr(settings)
    with pytest.raises(SettingsError, match="DATABASE_URL") as refused:
        Settings.from_env({"DATABASE_URL": "mysql://pb:s3cret@db/pb"})
    assert "s3cret" not in str(refused.value)
