"""The chat platforms paperboy knows. Adding one: its package under adapters/, one line here.

``paperboy run`` starts every platform whose settings say so (Slack when SLACK_BOT_TOKEN is
set, Discord when DISCORD_TOKEN is), all in one process; with none, the console chat.
"""

from __future__ import annotations

from collections.abc import Mapping

from adapters import discord, slack
from adapters.platform import Configured, Platform

PLATFORMS: tuple[Platform, ...] = (
    slack.PLATFORM,
    discord.PLATFORM,
)


def configured(env: Mapping[str, str]) -> list[Configured]:
    """Every platform with its settings from ``env``, enabled or not (their secrets count too)."""
    return [platform.from_env(env) for platform in PLATFORMS]
