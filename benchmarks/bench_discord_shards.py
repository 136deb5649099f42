"""Discord sharding: how long shards take to start, and posting from several processes.

* shard start: ``processes`` cores on one SQLite file, each with its own discord.py
  ``AutoShardedClient`` owning every ``processes``-th shard, started at once against a fake
  Discord with ``guilds`` guilds over ``shards`` shards; the time from the first ``start()``
  to the last process ready (every shard READY and its guilds received). Discord allows one
  IDENTIFY per ``max_concurrency`` bucket per 5 s, so 2 shards with max_concurrency 1 cannot
  be ready before 5 s; discord.py then waits ``guild_ready_timeout`` (2 s in paperboy) after
  a shard's last GUILD_CREATE before it calls the shard ready.
* shared budget: every process posts ``posts`` messages at once; the fake records the
  busiest sliding second of bot requests (Discord's global limit: 50).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from adapters.discord.client import IDENTIFY_INTERVAL, DiscordAdapter
from benchmarks.bench_bot import _Sources
from bot.config import Settings
from bot.core import Bot
from bot.events import ChannelRef
from bot.replies import Text
from storage.connect import open_database
from storage.store import Store
from tests.fakes.discord import FakeDiscord, sharded_guilds

GUILD_READY_TIMEOUT = 2.0  # DiscordAdapter's default


@dataclass
class ShardStart:
    seconds: float
    bound: float  # Discord's IDENTIFY pacing alone
    guild_wait: float
    guilds_seen: int
    refused: int  # IDENTIFYs the fake refused as too early (must be 0)


@dataclass
class SharedPosting:
    posts: int
    seconds: float
    busiest_second: int
    global_refusals: int


def _remove_database(db_path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)


def _bot(db_path: Path) -> Bot:
    settings = Settings(db_path=str(db_path), poll_interval=3600, reconcile_days=0)
    return Bot(Store(open_database(str(db_path))), _Sources(), settings)  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def _processes(
    fake: FakeDiscord,
    db_path: Path,
    processes: int,
    identify_interval: float,
    guild_ready_timeout: float,
) -> AsyncIterator[tuple[list[DiscordAdapter], float]]:
    """Start ``processes`` adapters at once; yields them and how long the start took."""
    _remove_database(db_path)
    count = fake.recommended_shards
    adapters = []
    for n in range(processes):
        ids = ",".join(str(s) for s in range(n, count, processes))
        adapter = DiscordAdapter(
            _bot(db_path),
            fake.settings(shard_count=count, shard_ids=ids),
            guild_ready_timeout=guild_ready_timeout,
            identify_interval=identify_interval,
        )
        adapter.bot.attach(adapter)
        adapters.append(adapter)
    try:
        started = time.perf_counter()
        await asyncio.gather(*(a.start() for a in adapters))
        yield adapters, time.perf_counter() - started
    finally:
        for adapter in adapters:
            await adapter.stop()
            adapter.bot.store.close()


async def shard_start(
    work: Path,
    guilds: int,
    shards: int = 2,
    processes: int = 2,
    max_concurrency: int = 1,
    identify_interval: float = IDENTIFY_INTERVAL,
    guild_ready_timeout: float = GUILD_READY_TIMEOUT,
) -> ShardStart:
    async with FakeDiscord(
        guilds=sharded_guilds(guilds),
        shards=shards,
        max_concurrency=max_concurrency,
        identify_interval=identify_interval,
    ) as fake:
        async with _processes(
            fake, work / "shards.db", processes, identify_interval, guild_ready_timeout
        ) as (adapters, seconds):
            seen = sum(len(a.client.guilds) for a in adapters)
        per_bucket = math.ceil(shards / max_concurrency)
        return ShardStart(
            seconds,
            (per_bucket - 1) * identify_interval,
            guild_ready_timeout,
            seen,
            len(fake.identify_refused),
        )


async def shared_posting(work: Path, posts: int, processes: int = 2) -> SharedPosting:
    guilds = sharded_guilds(16)
    async with FakeDiscord(guilds=guilds, shards=2, identify_interval=0.05) as fake:
        async with _processes(fake, work / "posting.db", processes, 0.05, 0.05) as (adapters, _):
            channels = [ChannelRef("discord", g, cs[0]) for g, cs in guilds.items()]
            fake.bot_request_times.clear()
            started = time.perf_counter()
            await asyncio.gather(
                *(
                    adapter.send(channels[i % len(channels)], Text(f"post {i}", public=True))
                    for adapter in adapters
                    for i in range(posts)
                )
            )
            seconds = time.perf_counter() - started
        return SharedPosting(processes * posts, seconds, fake.busiest_second, fake.global_refusals)
