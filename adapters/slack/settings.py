"""Slack's settings (SLACK_* and PORT), read from the environment like the core's."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from bot.config import EnvSettings


@dataclass(frozen=True)
class SlackSettings(EnvSettings):
    ENV_PREFIX: ClassVar[str] = "SLACK_"
    ENV_NAMES: ClassVar[Mapping[str, str]] = {"port": "PORT"}

    bot_token: str = field(default="", repr=False)
    # Socket Mode when set; HTTP mode (PORT, SIGNING_SECRET) otherwise.
    app_token: str = field(default="", repr=False)
    signing_secret: str = field(default="", repr=False)
    api_url: str = "https://slack.com/api/"
    port: int = 3000  # HTTP mode; 0 picks a free port (tests)
    # HTTP mode: a request's headers must arrive within this many seconds of the connection
    # opening (or of the previous answer), its body within the next; more open connections
    # than the cap close the oldest one still waiting for headers.
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    max_connections: int = 5000

    @property
    def enabled(self) -> bool:
        return bool(self.bot_token)

    @property
    def socket_mode(self) -> bool:
        return bool(self.app_token)

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.bot_token, self.app_token, self.signing_secret) if s)

    def check(self) -> None:
        if not 0 <= self.port <= 65535:
            raise self._refuse("port", "must be a port number (0 to 65535)")
        self._require_positive("header_timeout", "body_timeout", "max_connections")
        self._require_url("api_url")
