"""The bot's own hot paths: votes through the core and through Slack HTTP, and fan-out.

* votes, core: reaction events through ``Bot.handle`` (memory adapter) into the SQLite file;
* votes, Slack HTTP: signed Events API requests to the real Slack adapter (Bolt, signature
  checks), signed by a fake Slack on 127.0.0.1 and sent from another process, 64 in
  flight, until the ledger has them all;
* fan-out: one poster round posting 10 new papers to 100 subscribed channels through the
  Slack adapter, against a fake Slack that allows one message per second per channel
  (faster ones get 429 + Retry-After) and answers in 50 ms. The bound is 10 s: ten
  messages per channel at one a second.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from aiohttp import web

from adapters.memory import MemoryAdapter
from adapters.slack.app import SlackAdapter
from bot.config import Settings
from bot.core import Bot
from bot.events import ChannelRef, MessageRef
from bot.model.feed import Feed
from bot.model.paper import Paper
from bot.model.subscription import Subscription
from bot.replies import PaperCard
from storage.connect import open_database
from storage.store import Store
from tests.fakes import slack as fake_slack
from tests.fakes.local_server import wait_until
from tests.fakes.slack import FakeSlack

CARDS = 50
WARM_UP = 2_000  # reaction events before a PostgreSQL figure is timed
ROOT = Path(__file__).resolve().parent.parent


class _Sources:
    """Paper sources without a network: ``feed`` lists ``papers``; search finds nothing."""

    def __init__(self, papers: list[Paper] = ()) -> None:  # type: ignore[assignment]
        self.papers = list(papers)
        self.searchable: list = []

    async def fetch_feed(self, feed: Feed, today: date) -> list[Paper]:
        return self.papers

    def describe(self, feed: Feed) -> str:
        return str(feed)

    async def aclose(self) -> None:
        return None


def _bot(db_path: Path, settings: Settings, papers: list[Paper] = ()) -> Bot:  # type: ignore[assignment]
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    db = open_database(str(db_path), settings.database_url, str(db_path) + "-search")
    return Bot(Store(db), _Sources(papers), settings)  # type: ignore[arg-type]


async def _post_cards(bot: Bot, outbox, channel: ChannelRef) -> list[MessageRef]:
    papers = [
        Paper(f"2605.{i:05d}", f"Paper {i}", published="2026-05-13") for i in range(1, CARDS + 1)
    ]
    bot.store.save_papers(papers)
    refs = []
    for paper in papers:
        post_id = bot.store.claim_post(
            channel.platform, channel.workspace, channel.channel, paper.id
        )
        ref = await outbox.send(channel, PaperCard(paper, public=True))
        bot.store.complete_post(post_id, ref.message)
        refs.append(ref)
    return refs


def _reactions(count: int) -> list[tuple[int, str, str, bool]]:
    """(card, user, emoji, added): adds, and every fourth event takes one back."""
    events = []
    for i in range(count):
        user = f"U{i // 4:05d}"
        if i % 4 == 3:
            events.append((i % CARDS, user, "+1", False))
        else:
            events.append((i % CARDS, user, ("+1", "fire", "-1")[i % 3], True))
    return events


async def votes_core(db_path: Path, count: int = 20_000, database_url: str = "") -> float:
    """Reaction events per second through the core into the SQLite file (or into the
    PostgreSQL database ``database_url``, which should be empty)."""
    bot = _bot(db_path, Settings(db_path=str(db_path), database_url=database_url))
    chat = MemoryAdapter(bot)
    refs = await _post_cards(bot, chat, chat.channel())
    if database_url:
        await _steady_state(bot, chat, refs)
    events = _reactions(count)
    started = time.perf_counter()
    for card, user, emoji, added in events:
        await chat.react(refs[card], emoji, user=user, added=added)
    elapsed = time.perf_counter() - started
    assert bot.store.sql.execute("SELECT count(*) FROM reactions").fetchone()[0] > 0
    await bot.stop()  # card edits still queued would read a closed database
    bot.store.close()
    return count / elapsed


async def _steady_state(bot: Bot, chat: MemoryAdapter, refs: list[MessageRef]) -> None:
    """A ledger with history and statistics, as a running database has: PostgreSQL plans
    by statistics, and a new database has none until autovacuum's first ANALYZE of a
    table (within about a minute of its first rows). Before it the planner sees a tie
    between the primary key and the channel index for an un-reaction's DELETE, and reads
    the channel's reactions. Other users' votes, so the timed events find the same state."""
    for card, user, emoji, added in _reactions(WARM_UP):
        await chat.react(refs[card], emoji, user=f"warm-{user}", added=added)
    bot.store.sql.execute("ANALYZE reactions, votes, posts")


async def votes_slack_http(db_path: Path, count: int = 5_000, in_flight: int = 64) -> float:
    """Signed reaction events per second through the Slack HTTP adapter, until stored.

    The requests are signed beforehand and sent by another process (``http_blast``), so
    the figure is the adapter's: Bolt's signature check, parsing, the core, SQLite."""
    async with FakeSlack() as slack:
        bot = _bot(db_path, Settings(db_path=str(db_path)))
        adapter = SlackAdapter(
            bot, slack.settings(socket_mode=False), http_host="127.0.0.1", post_interval=0.0
        )
        bot.attach(adapter)
        await adapter.start()
        url = f"http://127.0.0.1:{adapter.http_port}/slack/events"
        requests_file = db_path.with_suffix(".requests.json")
        try:
            refs = await _post_cards(bot, adapter, ChannelRef("slack", slack.team_id, "C1"))
            # Distinct adds only, so "all stored" is a row count.
            requests = []
            for i in range(count):
                payload = slack.reaction_payload(
                    refs[i % CARDS].message, user=f"U{i // CARDS:05d}", emoji="+1"
                )
                body, content_type = slack.encode(payload)
                requests.append((body, {"Content-Type": content_type, **slack.sign(body)}))
            requests_file.write_text(json.dumps(requests))

            def stored() -> int:
                return bot.store.db.execute("SELECT count(*) FROM reactions").fetchone()[0]

            sender = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "benchmarks.http_blast",
                url,
                str(requests_file),
                str(in_flight),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                cwd=ROOT,
            )
            assert sender.stdin is not None and sender.stdout is not None
            await sender.stdout.readline()  # ready
            started = time.perf_counter()
            sender.stdin.write(b"go\n")
            await sender.stdin.drain()
            answered = int((await sender.stdout.readline()).decode().strip() or 0)
            await wait_until(lambda: stored() >= count, timeout=120, interval=0.02)
            elapsed = time.perf_counter() - started
            await sender.wait()
            if answered != count:
                raise RuntimeError(f"only {answered} of {count} requests got 200")
        finally:
            requests_file.unlink(missing_ok=True)
            await adapter.stop()
            bot.store.db.close()
    return count / elapsed


class RateLimitedSlack(FakeSlack):
    """Slack's posting limit, enforced: one message per second per channel (a faster one
    is answered 429 with Retry-After), every answer after ``latency`` seconds."""

    def __init__(self, latency: float = 0.05, interval: float = 1.0) -> None:
        super().__init__()
        self.latency = latency
        self.interval = interval
        self.last_post: dict[str, float] = {}
        self.limited = 0

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["method"] != "chat.postMessage":
            return await super()._api(request)
        args = await fake_slack._request_args(request)
        token = fake_slack._bearer(request) or str(args.pop("token", ""))
        channel = str(args.get("channel") or "")
        now = time.monotonic()
        if now - self.last_post.get(channel, float("-inf")) < self.interval:
            self.limited += 1
            response = self._record(
                "chat.postMessage",
                args,
                token,
                429,
                {"ok": False, "error": "ratelimited"},
                {"Retry-After": "1"},
            )
        else:
            self.last_post[channel] = now
            answer = self._post_message(args, token)
            response = self._record("chat.postMessage", args, token, 200, answer)
        await asyncio.sleep(self.latency)
        return response


@dataclass
class FanOut:
    seconds: float
    bound: float
    posted: int
    expected: int
    rate_limited: int  # 429s Slack answered (each must have been retried)


async def fan_out(db_path: Path, papers: int = 10, channels: int = 100) -> FanOut:
    new = [
        Paper(
            f"2606.{i:05d}",
            f"New paper {i}",
            "An abstract.",
            ("A. Author",),
            "2026-06-01",
            ("cs.LG",),
            upvotes=i,
        )
        for i in range(1, papers + 1)
    ]
    async with RateLimitedSlack() as slack:
        bot = _bot(db_path, Settings(db_path=str(db_path), max_posts_per_poll=papers), new)
        # Paced: one post a second per channel.
        adapter = SlackAdapter(bot, slack.settings(socket_mode=False), http_host="127.0.0.1")
        bot.attach(adapter)
        await adapter.start()
        try:
            for c in range(channels):
                bot.store.add_subscription(
                    Subscription(
                        platform="slack",
                        workspace=slack.team_id,
                        channel=f"C{c:03d}",
                        feed=Feed("hf"),
                    )
                )
            started = time.perf_counter()
            await bot.poster.run_once()
            elapsed = time.perf_counter() - started
            posted = sum(len(slack.messages(f"C{c:03d}")) for c in range(channels))
        finally:
            await adapter.stop()
            bot.store.db.close()
    return FanOut(elapsed, float(papers), posted, papers * channels, slack.limited)
