"""Shared fixtures: a real SQLite file, the real sources against a local fake, the real core."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.discord.client import DiscordAdapter
from adapters.memory import MemoryAdapter
from bot.config import Settings
from bot.core import Bot
from bot.sources.registry import Sources
from storage.db import open_db
from storage.store import Store
from tests.fakes.discord import FakeDiscord
from tests.fakes.paper_sources import FakePaperSources

# 2026-05-13 12:00 UTC: the day of the first recorded HF Daily Papers file.
START = 1_778_673_600.0


class FakeClock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def paper_sources() -> AsyncIterator[FakePaperSources]:
    async with FakePaperSources() as fake:
        yield fake


@pytest.fixture
def settings(paper_sources: FakePaperSources, tmp_path) -> Settings:
    return paper_sources.settings(
        Settings(db_path=str(tmp_path / "paperboy.db"), poll_interval=3600, admins=frozenset())
    )


def make_bot(settings: Settings, clock: FakeClock) -> Bot:
    store = Store(open_db(settings.db_path), clock)
    sources = Sources.from_settings(settings, retry_base_delay=0.01)
    return Bot(store, sources, settings, clock=clock)


async def close_bot(bot: Bot) -> None:
    await bot.stop()
    await bot.sources.aclose()
    bot.store.db.close()


@pytest.fixture
async def bot(settings: Settings, clock: FakeClock) -> AsyncIterator[Bot]:
    bot = make_bot(settings, clock)
    yield bot
    await close_bot(bot)


@pytest.fixture
def chat(bot: Bot) -> MemoryAdapter:
    return MemoryAdapter(bot)


# -- the real Discord adapter and core against the fake Discord ------------------------


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        yield fake


@pytest.fixture
async def core(settings: Settings, clock: FakeClock, fake: FakeDiscord) -> AsyncIterator[Bot]:
    bot = make_bot(settings, clock)
    yield bot
    await close_bot(bot)


@pytest.fixture
async def adapter(core: Bot, fake: FakeDiscord) -> AsyncIterator[DiscordAdapter]:
    # A short guild_ready_timeout: the fake sends every GUILD_CREATE at once.
    adapter = DiscordAdapter(core, fake.settings(), guild_ready_timeout=0.05)
    core.attach(adapter)
    await adapter.start()
    yield adapter
    await adapter.stop()
    assert fake.unhandled == [], "the adapter called REST routes the fake does not know"
