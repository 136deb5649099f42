"""Settings, read once from the environment (and ``.env``, loaded by the CLI).

``EnvSettings`` is how every group of settings is read, the core's here and each platform's
in its own adapter package: one environment variable per field, and a value paperboy cannot
use stops it at start with one line that names the variable.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Self
from urllib.parse import urlsplit

DEFAULT_UP_EMOJI = ("+1", "thumbsup", "arrow_up", "fire", "👍", "⬆️", "⬆", "🔥")
DEFAULT_DOWN_EMOJI = ("-1", "thumbsdown", "arrow_down", "👎", "⬇️", "⬇")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class SettingsError(ValueError):
    """A setting has a value paperboy cannot use; the message names it."""


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


class EnvSettings:
    """Base of the settings dataclasses: each field comes from one environment variable.

    The variable is ``ENV_PREFIX`` + the field name in capitals, unless ``ENV_NAMES`` says
    otherwise. Subclasses check their values in ``check`` (called on construction).
    """

    ENV_PREFIX: ClassVar[str] = ""
    ENV_NAMES: ClassVar[Mapping[str, str]] = {}

    @classmethod
    def env_name(cls, field_name: str) -> str:
        return cls.ENV_NAMES.get(field_name) or cls.ENV_PREFIX + field_name.upper()

    @classmethod
    def env_names(cls) -> list[str]:
        return [cls.env_name(f.name) for f in fields(cls)]  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Self:
        """Read from a mapping such as ``os.environ``; unset or blank keys keep their defaults."""
        values: dict[str, object] = {}
        for f in fields(cls):  # type: ignore[arg-type]
            raw = env.get(cls.env_name(f.name))
            if raw is None or raw.strip() == "":
                continue
            values[f.name] = cls._convert(f.name, raw.strip(), f.default)
        return cls(**values)

    @classmethod
    def _convert(cls, name: str, raw: str, default: object) -> object:
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
            raise SettingsError(
                f"{cls.env_name(name)}={_shown(raw)} is not a valid {type(default).__name__}"
            ) from exc
        return raw

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        """Raise ``SettingsError`` for a value that cannot work."""

    def _refuse(self, name: str, why: str) -> SettingsError:
        return SettingsError(f"{self.env_name(name)}={_shown(getattr(self, name))} {why}")

    def _require_positive(self, *names: str, zero_ok: bool = False) -> None:
        for name in names:
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0 or (value == 0 and not zero_ok):
                raise self._refuse(name, "must be a number above 0" + (" or 0" if zero_ok else ""))

    def _require_url(self, *names: str, schemes: tuple[str, ...] = ("http", "https")) -> None:
        for name in names:
            scheme, sep, rest = str(getattr(self, name)).partition("://")
            if not (sep and rest and scheme.lower() in schemes):
                raise self._refuse(name, f"must be a {' or '.join(schemes)} URL")


def _shown(value: Any) -> str:
    text = ",".join(sorted(value)) if isinstance(value, frozenset | tuple) else str(value)
    return repr(text if len(text) <= 60 else text[:57] + "...")


@dataclass(frozen=True)
class Settings(EnvSettings):
    """The core's settings; each platform's live in its package (adapters/<name>/settings.py)."""

    ENV_NAMES: ClassVar[Mapping[str, str]] = {
        "db_path": "PAPERBOY_DB",
        "admins": "PAPERBOY_ADMINS",
        "search_dir": "PAPERBOY_SEARCH_DIR",
    }

    db_path: str = "paperboy.db"
    # postgresql://user:password@host:port/dbname selects PostgreSQL instead of the SQLite
    # file at db_path (README: Running on several machines). Holds a password: never logged.
    database_url: str = field(default="", repr=False)
    # Where each process keeps its search index on PostgreSQL ("": ~/.cache/paperboy).
    search_dir: str = ""
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
    # GET /healthz on this port too (0: only on Slack's HTTP port, when Slack runs in HTTP
    # mode): for load balancers in front of processes with no HTTP platform.
    healthz_port: int = 0
    # A workspace that removed the app keeps its subscriptions, posts and votes this many
    # days (a reinstall finds them); then they are deleted.
    uninstall_retention_days: float = 30.0

    hf_api_url: str = "https://huggingface.co/api"
    arxiv_api_url: str = "https://export.arxiv.org/api/query"
    arxiv_rss_url: str = "https://rss.arxiv.org/rss"
    arxiv_min_interval: float = 3.0  # arXiv's terms: one API request every 3 seconds
    biorxiv_api_url: str = "https://api.biorxiv.org"  # bioRxiv and medRxiv
    http_timeout: float = 20.0
    http_retries: int = 3

    def check(self) -> None:
        if str(self.log_level).upper() not in LOG_LEVELS:
            raise self._refuse("log_level", f"is not one of {', '.join(LOG_LEVELS)}")
        self._require_positive("poll_interval", "max_posts_per_poll", "source_alert_after")
        self._require_positive("http_timeout")
        self._require_positive("uninstall_retention_days", zero_ok=True)
        self._require_positive("arxiv_min_interval", "http_retries", zero_ok=True)
        self._require_url("hf_api_url", "arxiv_api_url", "arxiv_rss_url", "biorxiv_api_url")
        if self.database_url and not self.database_url.startswith(POSTGRES_SCHEMES):
            raise SettingsError(
                f"DATABASE_URL={_shown(self.database_label)} must be a postgresql:// URL "
                "(leave it unset to use the SQLite file PAPERBOY_DB)"
            )

    def secrets(self) -> tuple[str, ...]:
        """Values that must never reach a log line: the database URL and its password."""
        return tuple(s for s in (self.database_url, _password(self.database_url)) if s)

    @property
    def database_label(self) -> str:
        """Which database, for people: the file, or the PostgreSQL URL without password."""
        if not self.database_url:
            return self.db_path
        return re.sub(r"//[^/@]*@", "//", self.database_url)  # user and password dropped


POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def _password(url: str) -> str:
    try:
        return urlsplit(url).password or ""
    except ValueError:
        return ""
