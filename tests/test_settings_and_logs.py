"""Settings from the environment, and secrets kept out of every log line."""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

import pytest

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
            "SLACK_BOT_TOKEN": "",
        }
    )
    assert settings.db_path == "/data/p.db" and settings.poll_interval == 60.0
    assert settings.max_posts_per_poll == 3 and settings.admins == {"U1", "U2"}
    assert settings.up_emoji == ("rocket", "+1")
    assert not settings.slack_enabled


def test_a_bad_value_names_the_setting() -> None:
    with pytest.raises(SettingsError, match="POLL_INTERVAL"):
        Settings.from_env({"POLL_INTERVAL": "often"})


def test_env_example_documents_every_setting() -> None:
    documented = set(
        re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE)
    )
    names = {
        "PAPERBOY_DB" if f == "db_path" else "PAPERBOY_ADMINS" if f == "admins" else f.upper()
        for f in Settings.__dataclass_fields__
    }
    assert names <= documented, names - documented


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
    setup_logging("DEBUG", [token, discord], stream)
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
