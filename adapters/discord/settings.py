"""Discord's settings (DISCORD_*), read from the environment like the core's."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from bot.config import EnvSettings


@dataclass(frozen=True)
class DiscordSettings(EnvSettings):
    ENV_PREFIX: ClassVar[str] = "DISCORD_"

    token: str = field(default="", repr=False)
    api_url: str = "https://discord.com/api/v10"
    gateway_url: str = "wss://gateway.discord.gg/"
    # Sync /papers to this one server instantly (development); empty: global sync.
    guild_id: str = ""

    @property
    def enabled(self) -> bool:
        return bool(self.token)

    def secrets(self) -> tuple[str, ...]:
        return (self.token,) if self.token else ()

    def check(self) -> None:
        if self.guild_id and not (self.guild_id.isascii() and self.guild_id.isdigit()):
            raise self._refuse("guild_id", "must be a server id (a number)")
        self._require_url("api_url")
        self._require_url("gateway_url", schemes=("ws", "wss"))
