"""Discord's settings (DISCORD_*), read from the environment like the core's."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import ClassVar

from bot.config import EnvSettings

# Discord's global limit is 50 requests a second for the whole bot; paperboy's processes
# share a little less, leaving room for network jitter and clocks that disagree.
DISCORD_GLOBAL_LIMIT = 50.0
DEFAULT_REQUESTS_PER_SECOND = 45.0
MAX_SHARD_ID = 65535  # far beyond any bot's; keeps "0-999999999" from filling memory


@dataclass(frozen=True)
class DiscordSettings(EnvSettings):
    ENV_PREFIX: ClassVar[str] = "DISCORD_"

    token: str = field(default="", repr=False)
    api_url: str = "https://discord.com/api/v10"
    gateway_url: str = "wss://gateway.discord.gg/"
    # Sync /papers to this one server instantly (development); empty: global sync.
    guild_id: str = ""
    # How many shards the bot has in all (0: as many as Discord recommends), and which of
    # them this process connects ("0,1" or "0-3"; empty: all of them).
    shard_count: int = 0
    shard_ids: str = ""
    # REST requests a second, all processes of the bot together (through the database);
    # 0: no shared budget (a REST proxy in front of Discord keeps the limit instead).
    requests_per_second: float = DEFAULT_REQUESTS_PER_SECOND

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
        if self.shard_count < 0:
            raise self._refuse("shard_count", "must be 0 (as Discord recommends) or more")
        self._check_shard_ids()
        self._require_positive("requests_per_second", zero_ok=True)
        if self.requests_per_second > DISCORD_GLOBAL_LIMIT:
            raise self._refuse(
                "requests_per_second", f"is more than Discord allows ({DISCORD_GLOBAL_LIMIT:.0f})"
            )

    def _check_shard_ids(self) -> None:
        if not self.shard_ids:
            return
        if not self.shard_count:
            # Every process must agree on the count: Discord's recommendation may change.
            raise self._refuse("shard_ids", "needs DISCORD_SHARD_COUNT (the same in every process)")
        ids = parse_shard_ids(self.shard_ids)
        if ids is None:
            raise self._refuse("shard_ids", 'must list shard numbers, e.g. "0,1" or "0-3"')
        beyond = [i for i in ids if i >= self.shard_count]
        if beyond:
            raise self._refuse(
                "shard_ids",
                f"names shard {beyond[0]}, but shards go from 0 to {self.shard_count - 1} "
                f"(DISCORD_SHARD_COUNT={self.shard_count})",
            )

    def shards(self, recommended: int) -> tuple[int, list[int]]:
        """The shard count and this process's shard ids, given Discord's recommended count."""
        count = self.shard_count or recommended
        ids = parse_shard_ids(self.shard_ids) if self.shard_ids else None
        return count, ids if ids is not None else list(range(count))


def parse_shard_ids(text: str) -> list[int] | None:
    """``"0,2-4"`` → ``[0, 2, 3, 4]`` (sorted, each once); None if it is not such a list."""
    ids: set[int] = set()
    for part in text.split(","):
        match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        if match is None:
            return None
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) is not None else first
        if last < first or last > MAX_SHARD_ID:
            return None
        ids.update(range(first, last + 1))
    return sorted(ids)
