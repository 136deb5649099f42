"""What a chat platform is to paperboy: one ``Platform`` value per adapter package.

A platform brings its own settings (read from the environment), says which of them are
secrets, which loggers it quiets and which token shapes logs must never show, and builds
the adapter that ``paperboy run`` starts and stops and the core posts through (its outbox).
``adapters/registry.py`` lists the platforms; the SDK behind one is imported only when its
adapter is built, so the console and the CLI chores start fast.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from bot.outbox import Outbox

if TYPE_CHECKING:
    from bot.core import Bot


class PlatformSettings(Protocol):
    @property
    def enabled(self) -> bool:
        """Whether ``paperboy run`` starts this platform (its token is set, say)."""
        ...

    def secrets(self) -> tuple[str, ...]:
        """Values that must never reach a log line or a reply."""
        ...


class PlatformAdapter(Outbox, Protocol):
    async def start(self) -> None:
        """Connect; return once the platform can reach paperboy. Raises on failure."""
        ...

    async def stop(self) -> None:
        """Stop taking events, let those in progress finish a moment, disconnect."""
        ...


class PlatformStartError(RuntimeError):
    """A platform could not start for a reason the user can fix; the message says what to check.

    Paperboy prints it as one line and keeps its other platforms running.
    """


@dataclass(frozen=True)
class Platform:
    name: str  # as in ChannelRef.platform, e.g. "slack"
    title: str  # as people write it, e.g. "Slack"
    read_settings: Callable[[Mapping[str, str]], PlatformSettings]
    # Builds the adapter (importing the SDK only now) and attaches it to the core.
    build: Callable[[Bot, Any], PlatformAdapter]
    # Environment variables it reads, for .env.example and the docs test.
    env_names: tuple[str, ...] = ()
    # Loggers kept at WARNING unless LOG_LEVEL=DEBUG (their DEBUG lines can hold payloads).
    quiet_loggers: tuple[str, ...] = ()
    # Secrets that are not settings, blanked in every log line: its token formats (someone
    # else's token in an error) and secrets in its traffic; may depend on its settings.
    log_patterns: Callable[[Any], tuple[re.Pattern[str], ...]] = lambda settings: ()
    # Adds its own `paperboy ...` chores (e.g. discord-invite) to the CLI.
    add_commands: Callable[[argparse._SubParsersAction], None] | None = None

    def configure(self, settings: PlatformSettings) -> Configured:
        return Configured(self, settings)

    def from_env(self, env: Mapping[str, str]) -> Configured:
        return Configured(self, self.read_settings(env))


@dataclass(frozen=True)
class Configured:
    """A platform with its settings: what ``paperboy run`` is given to start."""

    platform: Platform
    settings: Any  # the platform's own PlatformSettings

    @property
    def enabled(self) -> bool:
        return self.settings.enabled

    def build(self, bot: Bot) -> PlatformAdapter:
        return self.platform.build(bot, self.settings)

    def log_patterns(self) -> tuple[re.Pattern[str], ...]:
        return self.platform.log_patterns(self.settings)
