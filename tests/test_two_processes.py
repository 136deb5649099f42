"""Two ``paperboy run`` processes on one database: one posts, the other takes over.

Both real bot processes share one database and one fake Slack (HTTP mode, so both serve
commands); two channels are subscribed and papers keep arriving. Only the holder of the
poster lock runs rounds (a lock file beside an SQLite database, a session advisory lock on
PostgreSQL), so every paper lands exactly once per channel; after a kill -9 of the poster,
the other takes over within two poll intervals and finishes the work, settling the dead
one's claim. The same test runs on both backends.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from pathlib import Path

import pytest

from bot.config import Settings
from bot.model.feed import Feed as SourceFeed
from bot.model.subscription import Subscription
from tests.botprocess import BotProcess, read_rows, sources_env
from tests.conftest import BACKENDS, database_settings, open_store
from tests.fakes.local_server import wait_until
from tests.fakes.paper_sources import FakePaperSources
from tests.fakes.slack import FakeSlack
from tests.test_kill_posting import Feed

CHANNELS = ["C1", "C2"]
POLL_INTERVAL = 1.0
LEADING = "runs the posting rounds now"
ROUND = "source hf: fetched"
LISTENING = "Slack: listening for HTTP events"


def cards(slack: FakeSlack, channel: str) -> list[str]:
    return [
        m["metadata"]["event_payload"]["paper_id"]
        for m in slack.posts(channel)
        if m.get("metadata")
    ]


class Reader:
    """Reads the bots' database from outside the bots, on either backend."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._conn = None

    def rows(self, sql: str) -> list[tuple]:
        if not self.settings.database_url:
            return read_rows(self.settings.db_path, sql)
        if self._conn is None:
            import psycopg

            self._conn = psycopg.connect(self.settings.database_url, autocommit=True)
        return self._conn.execute(sql).fetchall()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


def all_posted_once(slack: FakeSlack, feed: Feed, db: Reader) -> bool:
    wanted = {p["id"] for p in feed.papers()}
    pending = db.rows("SELECT count(*) FROM posts WHERE state = 'pending'")[0][0]
    return pending == 0 and all(set(cards(slack, c)) == wanted for c in CHANNELS)


def context(bots: list[BotProcess]) -> str:
    return "\n".join(f"--- {b.log_path.name}\n{b.log_tail(25)}" for b in bots)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_two_processes_post_each_paper_once_and_the_survivor_takes_over(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    rng = random.Random()
    async with (
        FakeSlack() as slack,
        FakePaperSources(daily_files={}, default_daily_file=None) as sources,
    ):
        # Answers come a little late, so sends are in flight when the other process looks.
        slack.delay_answers("chat.postMessage", lambda: rng.uniform(0.05, 0.3))
        feed = Feed(sources, first=3)
        settings = database_settings(backend, request, tmp_path)
        db = Reader(settings)
        store = open_store(settings)
        for channel in CHANNELS:
            store.add_subscription(
                Subscription(
                    platform="slack",
                    workspace=slack.team_id,
                    channel=channel,
                    feed=SourceFeed("hf"),
                )
            )
        store.close()
        env = {
            "PAPERBOY_DB": settings.db_path,
            "DATABASE_URL": settings.database_url,
            "PAPERBOY_SEARCH_DIR": settings.search_dir,
            "POLL_INTERVAL": str(POLL_INTERVAL),
            "LOG_LEVEL": "INFO",
            "MAX_POSTS_PER_POLL": "2",
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_API_URL": slack.api_url,
            "SLACK_SIGNING_SECRET": slack.signing_secret,
            "PORT": "0",
            **sources_env(sources),
        }
        bots = [BotProcess(env, tmp_path, name) for name in ("a", "b")]
        try:
            await asyncio.gather(*(bot.start() for bot in bots))
            # Papers keep arriving while both run.
            for _ in range(8):
                feed.grow()
                await asyncio.sleep(POLL_INTERVAL / 2)
            await wait_until(lambda: all_posted_once(slack, feed, db), 60, interval=0.1)
            assert not any(bot.crashed for bot in bots), context(bots)
            posters = [bot for bot in bots if ROUND in bot.log()]
            assert len(posters) == 1, f"both ran posting rounds\n{context(bots)}"
            (poster,) = posters
            (other,) = [bot for bot in bots if bot is not poster]

            # kill -9 the poster while it sends: the other takes over and finishes.
            feed.grow(6)
            sent = len(slack.calls_to("chat.postMessage"))
            await wait_until(lambda: len(slack.calls_to("chat.postMessage")) > sent, 20, 0.005)
            await poster.kill()
            killed_at = time.monotonic()
            await wait_until(lambda: LEADING in other.log(), 2 * POLL_INTERVAL + 1, 0.02)
            took_over = time.monotonic() - killed_at
            assert took_over < 2 * POLL_INTERVAL, context(bots)
            await wait_until(lambda: all_posted_once(slack, feed, db), 60, interval=0.1)

            # The killed one comes back as the follower; new papers still arrive once.
            await poster.start()
            feed.grow(2)
            await wait_until(lambda: all_posted_once(slack, feed, db), 60, interval=0.1)
            # Stop it only once it is up: a SIGTERM during start-up is not what this tests.
            await wait_until(lambda: poster.log().count(LISTENING) == 2, 60, interval=0.1)
            assert poster.log().count(LEADING) == 1, context(bots)
            for bot in bots:
                assert await bot.stop() == 0, context(bots)
        finally:
            for bot in bots:
                await bot.aclose()
        rows = db.rows("SELECT channel, paper_id, message_id, state FROM posts")
        db.close()

        for channel in CHANNELS:
            doubled = {p: n for p, n in Counter(cards(slack, channel)).items() if n > 1}
            assert not doubled, f"posted twice in {channel}: {doubled}\n{context(bots)}"
        assert len(rows) == len(CHANNELS) * feed.count
        assert {state for *_, state in rows} == {"sent"}
        for bot in bots:
            assert "Traceback" not in bot.log(), context(bots)
