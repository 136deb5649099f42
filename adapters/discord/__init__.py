"""paperboy's Discord adapter: slash commands, reaction votes and auto-posted paper cards.

``DiscordAdapter`` (``adapters.discord.client``) is what ``paperboy run`` starts when
``DISCORD_TOKEN`` is set; ``paperboy discord-invite`` (``adapters.discord.invite``) prints
the link that adds the bot to a server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from adapters.discord.cli import add_commands
from adapters.discord.settings import DiscordSettings
from adapters.platform import Platform

if TYPE_CHECKING:
    from adapters.discord.client import DiscordAdapter
    from bot.core import Bot


def _build(bot: Bot, settings: DiscordSettings) -> DiscordAdapter:
    from adapters.discord.client import DiscordAdapter  # discord.py loads only when it runs

    return DiscordAdapter(bot, settings)


PLATFORM = Platform(
    name="discord",
    title="Discord",
    read_settings=DiscordSettings.from_env,
    build=_build,
    env_names=tuple(DiscordSettings.env_names()),
    quiet_loggers=("discord",),
    add_commands=add_commands,
)
