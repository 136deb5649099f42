"""Shared fixtures: a real SQLite file (or a real PostgreSQL database), the real sources
against a local fake, the real core."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace

import pytest

from adapters.discord.client import DiscordAdapter
from adapters.memory import MemoryAdapter
from bot.config import Settings
from bot.core import Bot
from bot.sources.registry import Sources
from storage.connect import open_database
from storage.store import Store
from tests.fakes.discord import FakeDiscord
from tests.fakes.paper_sources import FakePaperSources
from tests.pg_server import PostgresServer, PostgresUnavailable

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


# -- the database: SQLite by default; a module runs on both by overriding ``backend`` ------

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One private server for the whole session (started on first use). In CI a missing
    PostgreSQL fails the tests that need it; elsewhere they are skipped, saying why."""
    try:
        server = PostgresServer().start()
    except PostgresUnavailable as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs PostgreSQL for these tests: {exc}")
        pytest.skip(f"PostgreSQL tests skipped: {exc}")
    yield server
    server.stop()


@pytest.fixture
def backend() -> str:
    """Which database the ``settings`` fixture names; modules that test storage behaviour
    override it with ``params=BACKENDS``."""
    return "sqlite"


def database_settings(backend: str, request: pytest.FixtureRequest, tmp_path) -> Settings:
    """Settings naming a fresh database of ``backend``."""
    base = Settings(db_path=str(tmp_path / "paperboy.db"), poll_interval=3600, admins=frozenset())
    if backend == "postgresql":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        base = replace(
            base, database_url=server.new_database(), search_dir=str(tmp_path / "search")
        )
    return base


@pytest.fixture
def settings(
    paper_sources: FakePaperSources, tmp_path, backend: str, request: pytest.FixtureRequest
) -> Settings:
    return paper_sources.settings(database_settings(backend, request, tmp_path))


def open_store(settings: Settings, clock=None) -> Store:
    db = open_database(settings.db_path, settings.database_url, settings.search_dir)
    return Store(db, clock) if clock is not None else Store(db)


def make_bot(settings: Settings, clock: FakeClock) -> Bot:
    store = open_store(settings, clock)
    sources = Sources.from_settings(settings, retry_base_delay=0.01)
    return Bot(store, sources, settings, clock=clock)


async def close_bot(bot: Bot) -> None:
    await bot.stop()
    await bot.sources.aclose()
    bot.store.close()


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
