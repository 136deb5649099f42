"""Slack's settings (SLACK_* and PORT), read from the environment like the core's."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from bot.config import EnvSettings, SettingsError

# The bot scopes of manifest.yml, which an install asks for unless SLACK_SCOPES says otherwise.
BOT_SCOPES = (
    "commands",
    "chat:write",
    "channels:join",
    "reactions:read",
    "channels:history",
    "groups:history",
    "metadata.message:read",
    "users:read",
    "im:write",
    "files:write",
    "links:read",
    "links:write",
)

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


@dataclass(frozen=True)
class SlackSettings(EnvSettings):
    ENV_PREFIX: ClassVar[str] = "SLACK_"
    ENV_NAMES: ClassVar[Mapping[str, str]] = {"port": "PORT"}

    bot_token: str = field(default="", repr=False)
    # Distribution ("Add to Slack", HTTP mode): with both set, paperboy serves Bolt's OAuth
    # flow at /slack/install and keeps one installation (bot token) per workspace.
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    scopes: tuple[str, ...] = BOT_SCOPES
    # Bolt's token_rotation_expiration_minutes: with token rotation turned on for the app, a
    # workspace's token is refreshed when it expires within this many minutes.
    token_rotation_minutes: int = 120
    # Slack's limits for distributed apps outside the Marketplace: conversations.history
    # once a minute per workspace, 15 messages a call. "auto": on with SLACK_CLIENT_ID (a
    # distributed app), off with SLACK_BOT_TOKEN (an app of one's own workspace).
    history_limited: str = "auto"
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
        return bool(self.bot_token) or self.oauth

    @property
    def oauth(self) -> bool:
        """Many workspaces, each installed through the OAuth flow (SLACK_CLIENT_ID/SECRET)."""
        return bool(self.client_id and self.client_secret)

    @property
    def limited_history(self) -> bool:
        """Whether conversations.history is read under the distributed apps' limits."""
        value = self.history_limited.lower()
        return self.oauth if value == "auto" else value in _TRUE

    @property
    def socket_mode(self) -> bool:
        return bool(self.app_token)

    def secrets(self) -> tuple[str, ...]:
        return tuple(
            s
            for s in (self.bot_token, self.app_token, self.signing_secret, self.client_secret)
            if s
        )

    def check(self) -> None:
        if not 0 <= self.port <= 65535:
            raise self._refuse("port", "must be a port number (0 to 65535)")
        self._require_positive(
            "header_timeout", "body_timeout", "max_connections", "token_rotation_minutes"
        )
        if self.history_limited.lower() not in ("auto", *_TRUE, *_FALSE):
            raise self._refuse("history_limited", "must be true, false or auto")
        self._require_url("api_url")
        if bool(self.client_id) != bool(self.client_secret):
            raise SettingsError(
                "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET go together (both, for installs "
                "through Slack's OAuth flow, or neither)"
            )
        if self.oauth and self.app_token:
            raise SettingsError(
                "installs through the OAuth flow need HTTP mode: unset SLACK_APP_TOKEN "
                "and set SLACK_SIGNING_SECRET"
            )
        if self.oauth and self.bot_token:
            raise SettingsError(
                "set either SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID and "
                "SLACK_CLIENT_SECRET (any number of workspaces), not both"
            )
