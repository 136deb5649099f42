"""Slack: slack-bolt's AsyncApp in Socket Mode or HTTP mode (see SETUP.md)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from adapters.platform import Platform
from adapters.slack.log_rules import patterns_for
from adapters.slack.settings import SlackSettings

if TYPE_CHECKING:
    from adapters.slack.app import SlackAdapter
    from bot.core import Bot


def _build(bot: Bot, settings: SlackSettings) -> SlackAdapter:
    from adapters.slack.app import SlackAdapter  # slack-bolt loads only when Slack runs

    return SlackAdapter(bot, settings)


# Slack's token formats, blanked even when they are not ours (e.g. inside an SDK error).
TOKEN_SHAPES = re.compile(r"\b(?:xox[abposr]-[\w-]+|xapp-[\w-]+)")


def _log_patterns(settings: SlackSettings) -> tuple[re.Pattern[str], ...]:
    return (TOKEN_SHAPES, *patterns_for(settings.api_url))


PLATFORM = Platform(
    name="slack",
    title="Slack",
    read_settings=SlackSettings.from_env,
    build=_build,
    env_names=tuple(SlackSettings.env_names()),
    # aiohttp.access: HTTP mode's server would log every request (and its URL).
    quiet_loggers=("slack_bolt", "slack_sdk", "paperboy.slack", "aiohttp.access"),
    log_patterns=_log_patterns,
)
