"""PostgreSQL's bulk paths and several processes, each beside SQLite's figure of the same run.

* copy-to-postgres: the SQLite database the import benchmark built, copied whole into an
  empty PostgreSQL database (``storage.copy_to_postgres``, COPY per batch, count check);
* import: ``paperboy import arxiv-snapshot`` of the same snapshot into PostgreSQL (COPY per
  batch; the importing process builds its own search index, as it does beside SQLite);
* fan-out with three processes: three real ``paperboy run`` processes (Slack HTTP mode) on
  one PostgreSQL database and one rate-limited fake Slack; 10 new papers for 100 channels.
  Only the holder of the poster lock posts, the other two serve. Timed from the poster's
  fetch of the feed that lists the papers to the answer to the last message; the bound is
  10 s, as for the one-process row.

The server is private (``tests/pg_server.py``: initdb + pg_ctl, durability off), on this
machine, sharing its cores with the benchmark and the bots.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.bench_bot import FanOut, RateLimitedSlack
from bot.model.feed import Feed
from bot.model.subscription import Subscription
from storage.bulk_import import SnapshotImporter
from storage.copy_to_postgres import copy_to_postgres
from storage.db import open_db
from storage.sql import PostgresDatabase, as_database
from storage.store import Store
from tests.botprocess import BotProcess, sources_env
from tests.fakes.local_server import wait_until
from tests.fakes.paper_sources import FakePaperSources, hf_item

LEADING = "runs the posting rounds now"  # bot/poster.py, when a process takes the lock
ROUND = "source hf: fetched"  # logged by whoever runs a posting round


@dataclass
class CopyTiming:
    papers: int
    rows: int  # every table
    seconds: float
    counts_match: bool


def copy_sqlite(sqlite_path: Path, database_url: str) -> CopyTiming:
    """``paperboy db copy-to-postgres`` of ``sqlite_path`` into an empty database."""
    source = as_database(open_db(str(sqlite_path)))
    target = PostgresDatabase(database_url)
    try:
        started = time.perf_counter()
        result = copy_to_postgres(source, target)  # type: ignore[arg-type]
        seconds = time.perf_counter() - started
    finally:
        source.close()
        target.close()
    papers = next(t.added for t in result.tables if t.table == "papers")
    return CopyTiming(papers, sum(t.added for t in result.tables), seconds, result.ok)


@dataclass
class ImportTiming:
    papers: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.papers / self.seconds


def import_snapshot(snapshot: Path, database_url: str, search_dir: Path) -> ImportTiming:
    """The real importer into an empty PostgreSQL database, search index built and merged."""
    started = time.perf_counter()
    store = Store(PostgresDatabase(database_url, str(search_dir)))
    try:
        result = SnapshotImporter(store).run(snapshot)
    finally:
        store.close()
    return ImportTiming(result.added, time.perf_counter() - started)


@dataclass
class ProcessFanOut(FanOut):
    processes: int = 3
    posters: int = 0  # processes that ran a posting round: must be 1


async def fan_out_processes(
    database_url: str,
    workdir: Path,
    papers: int = 10,
    channels: int = 100,
    processes: int = 3,
    poll_interval: float = 1.0,
) -> ProcessFanOut:
    """``workdir`` (which must exist) gets the bots' logs and search indexes."""
    async with (
        RateLimitedSlack() as slack,
        FakePaperSources(daily_files={}, default_daily_file=None) as sources,
    ):
        store = Store(PostgresDatabase(database_url, str(workdir / "search")))
        for c in range(channels):
            store.add_subscription(
                Subscription(
                    platform="slack", workspace=slack.team_id, channel=f"C{c:03d}", feed=Feed("hf")
                )
            )
        store.close()
        env = {
            "DATABASE_URL": database_url,
            "PAPERBOY_SEARCH_DIR": str(workdir / "search"),
            "POLL_INTERVAL": str(poll_interval),
            "LOG_LEVEL": "INFO",
            "MAX_POSTS_PER_POLL": str(papers),
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_API_URL": slack.api_url,
            "SLACK_SIGNING_SECRET": slack.signing_secret,
            "PORT": "0",
            **sources_env(sources),
        }
        bots = [BotProcess(env, workdir, f"fanout-{i}") for i in range(processes)]
        expected = papers * channels
        try:
            await asyncio.gather(*(bot.start() for bot in bots))
            # One of them holds the poster lock and has run a round of the empty feed.
            await wait_until(lambda: any(ROUND in bot.log() for bot in bots), 60, 0.05)
            asked = sources.count("daily")
            sources.set_default_daily(
                [hf_item(f"2606.{i:05d}", f"New paper {i}", upvotes=i) for i in range(papers)]
            )
            await wait_until(lambda: _posted(slack, channels) >= expected, 120, 0.05)
            fetched = sources.requests_for("daily")[asked].at
            last = max(c.at for c in slack.calls_to("chat.postMessage") if c.status == 200)
            elapsed = last + slack.latency - fetched
            posted = _posted(slack, channels)
            posters = sum(ROUND in bot.log() for bot in bots)
            for bot in bots:
                await bot.stop()
        finally:
            for bot in bots:
                await bot.aclose()
    return ProcessFanOut(
        elapsed, float(papers), posted, expected, slack.limited, processes, posters
    )


def _posted(slack: RateLimitedSlack, channels: int) -> int:
    return sum(len(slack.messages(f"C{c:03d}")) for c in range(channels))
