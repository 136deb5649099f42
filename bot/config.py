"""Settings, read once from the environment (and ``.env``, loaded by the CLI)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields

DEFAULT_UP_EMOJI = ("+1", "thumbsup", "arrow_up", "fire", "👍", "⬆️", "⬆", "🔥")
DEFAULT_DOWN_EMOJI = ("-1", "thumbsdown", "arrow_down", "👎", "⬇️", "⬇")


class SettingsError(ValueError):
    """A setting has a value paperboy cannot use; the message names it."""


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    db_path: str = "paperboy.db"
    log_level: str = "INFO"
    poll_interval: float = 900.0
    max_posts_per_poll: int = 10
    admins: frozenset[str] = frozenset()
    up_emoji: tuple[str, ...] = DEFAULT_UP_EMOJI
    down_emoji: tuple[str, ...] = DEFAULT_DOWN_EMOJI
    source_alert_after: float = 6 * 3600.0
    # A posted card is edited at most once per this many seconds (its last edit always
    # shows the final count): reaction storms cost a few edits, not one per reaction.
    card_edit_interval: float = 10.0
    # At start (and after a Discord session that could not resume) the reactions on posts
    # sent this many days back are re-read, so votes cast while paperboy was away count;
    # 0 turns it off.
    reconcile_days: float = 7.0

    hf_api_url: str = "https://huggingface.co/api"
    arxiv_api_url: str = "https://export.arxiv.org/api/query"
    arxiv_rss_url: str = "https://rss.arxiv.org/rss"
    arxiv_min_interval: float = 3.0  # arXiv's terms: one API request every 3 seconds
    http_timeout: float = 20.0
    http_retries: int = 3

    slack_bot_token: str = field(default="", repr=False)
    slack_app_token: str = field(default="", repr=False)
    slack_signing_secret: str = field(default="", repr=False)
    slack_api_url: str = "https://slack.com/api/"
    port: int = 3000
    # HTTP mode: a request's headers must arrive within this many seconds of the connection
    # opening (or of the previous answer), its body within the next; more open connections
    # than the cap close the oldest one still waiting for headers.
    slack_header_timeout: float = 10.0
    slack_body_timeout: float = 30.0
    slack_max_connections: int = 5000

    discord_token: str = field(default="", repr=False)
    discord_api_url: str = "https://discord.com/api/v10"
    discord_gateway_url: str = "wss://gateway.discord.gg/"
    discord_guild_id: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Build settings from a mapping such as ``os.environ``; unset keys keep their defaults."""
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(_ENV_NAMES.get(f.name, f.name.upper()))
            if raw is None or raw.strip() == "":
                continue
            values[f.name] = _convert(f.name, raw.strip(), f.default)
        return cls(**values)

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token)

    @property
    def discord_enabled(self) -> bool:
        return bool(self.discord_token)

    def secrets(self) -> tuple[str, ...]:
        """Values that must never reach a log line or a reply."""
        return tuple(
            s
            for s in (
                self.slack_bot_token,
                self.slack_app_token,
                self.slack_signing_secret,
                self.discord_token,
            )
            if s
        )


_ENV_NAMES = {"db_path": "PAPERBOY_DB", "admins": "PAPERBOY_ADMINS"}


def _convert(name: str, raw: str, default: object) -> object:
    try:
        if isinstance(default, bool):
            return raw.lower() in ("1", "true", "yes", "on")
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
        if isinstance(default, frozenset):
            return frozenset(_split(raw))
        if isinstance(default, tuple):
            return _split(raw)
    except ValueError as exc:
        env_name = _ENV_NAMES.get(name, name.upper())
        raise SettingsError(f"{env_name}={raw!r} is not a valid {type(default).__name__}") from exc
    return raw
