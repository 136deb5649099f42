"""kill -9 at any moment of a posting round never doubles a post nor loses one for good.

The real bot process posts to a fake Slack (Socket Mode and HTTP mode) or a fake Discord
and is killed with SIGKILL at random moments, many times, then restarted. The fakes store
each message as soon as it arrives and answer a little later (0-50 ms), so kills land
before a send, while the platform holds the message but the bot does not know its id yet,
and after. Meanwhile new papers keep appearing in the feed. At the end the bot runs until
it is done and every channel must hold each matching paper exactly once, with the
database agreeing (every post 'sent', none left 'pending').

Several bots ("lanes", each with its own fake and database) run side by side, and each
start forks ``adapters.cli.main(["run"])`` from a process that has already imported paperboy
(``tests/zygote.py``), to make many kills affordable. CI runs about 50 kills in all;
``make soak`` sets PAPERBOY_SOAK_KILLS. PAPERBOY_KILL_SEED replays a run's random choices.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pytest

from bot.model.feed import Feed as SourceFeed
from bot.model.subscription import Subscription
from storage.db import open_db
from storage.store import Store
from tests.botprocess import BotProcess, Zygote, read_rows, sources_env
from tests.fakes.discord import FakeDiscord
from tests.fakes.local_server import wait_until
from tests.fakes.paper_sources import FakePaperSources, hf_item
from tests.fakes.slack import FakeSlack

SOAK_KILLS = int(os.environ.get("PAPERBOY_SOAK_KILLS", "0"))
SEED = int(os.environ.get("PAPERBOY_KILL_SEED", str(random.randrange(2**32))))
# CI: 4 Slack lanes x 9 kills + 4 Discord lanes x 4 kills = 52 kills. A Discord start
# takes ~2.5 s (discord.py waits 2 s for guilds), a Slack start well under 1 s.
SLACK_KILLS = math.ceil(SOAK_KILLS * 0.6) if SOAK_KILLS else 36
DISCORD_KILLS = SOAK_KILLS - SLACK_KILLS if SOAK_KILLS else 16
SLACK_LANES = 4
DISCORD_LANES = 4
MAX_POSTS_PER_POLL = 3
ANSWER_DELAY = (0.0, 0.05)  # how long a fake holds its answer after storing a message
KEYWORD = "agents"
ROUND_FETCHED = "source hf: fetched"  # logged once a round, after settling


def timeout_for(kills: int, lanes: int, seconds_per_kill: float) -> float:
    return 90 + math.ceil(kills / lanes) * seconds_per_kill * 2


# -- the feed: papers keep arriving while the bot is killed -----------------------------


class Feed:
    """HF Daily Papers as the fake serves it, growing by a paper now and then."""

    def __init__(self, sources: FakePaperSources, first: int = 4) -> None:
        self.sources = sources
        self.count = 0
        self.grow(first)

    @staticmethod
    def paper(i: int) -> dict[str, Any]:
        # Upvotes spread over 0..99 so that min_upvotes=50 takes about half; every third
        # title has the keyword a keyword subscription looks for.
        title = f"Paper about {KEYWORD} {i}" if i % 3 == 0 else f"Paper number {i}"
        return hf_item(f"2605.{i:05d}", title, upvotes=(i * 37) % 100)

    def grow(self, n: int = 1) -> None:
        self.count += n
        self.sources.set_default_daily([self.paper(i) for i in range(1, self.count + 1)])

    def papers(self) -> list[dict[str, Any]]:
        return [self.paper(i)["paper"] for i in range(1, self.count + 1)]


# Per channel: the subscriptions it gets, and which feed papers they select.
SUBSCRIPTIONS: list[tuple[list[dict[str, Any]], Callable[[dict[str, Any]], bool]]] = [
    ([{}], lambda p: True),
    ([{"min_upvotes": 50}], lambda p: p["upvotes"] >= 50),
    # Two subscriptions that overlap: still one post per paper.
    ([{}, {"min_upvotes": 50}], lambda p: True),
    ([{"keywords": (KEYWORD,)}], lambda p: KEYWORD in p["title"]),
]


# -- the platforms ----------------------------------------------------------------------


class Target(Protocol):
    """One fake platform as a lane sees it."""

    platform: str
    workspace: str
    channels: list[str]

    def env(self) -> dict[str, str]: ...
    def attempts(self) -> int: ...
    def cards(self, channel: str) -> list[tuple[str, str]]: ...  # (paper id, message id)


def answer_delay(rng: random.Random) -> Callable[[], float]:
    return lambda: rng.uniform(*ANSWER_DELAY)


class SlackTarget:
    platform = "slack"

    def __init__(self, fake: FakeSlack, socket_mode: bool, rng: random.Random) -> None:
        self.fake = fake
        self.socket_mode = socket_mode
        self.workspace = fake.team_id
        self.channels = [f"C{i}" for i in range(len(SUBSCRIPTIONS))]
        fake.delay_answers("chat.postMessage", answer_delay(rng))

    def env(self) -> dict[str, str]:
        env = {"SLACK_BOT_TOKEN": self.fake.bot_token, "SLACK_API_URL": self.fake.api_url}
        if self.socket_mode:
            env["SLACK_APP_TOKEN"] = self.fake.app_token
        else:  # HTTP mode on a free port; nothing is sent to it here
            env.update(SLACK_SIGNING_SECRET=self.fake.signing_secret, PORT="0")
        return env

    def attempts(self) -> int:
        return len(self.fake.calls_to("chat.postMessage"))

    def cards(self, channel: str) -> list[tuple[str, str]]:
        return [
            (m["metadata"]["event_payload"]["paper_id"], m["ts"])
            for m in self.fake.posts(channel)
            if m.get("metadata")
        ]


class SlowDiscord(FakeDiscord):
    """Stores a posted message at once and answers it a little later.

    It also ignores ``enforce_nonce``: real Discord drops a repeat with the same nonce for a
    few minutes, which would hide a resent card here. Without it, only paperboy's own
    bookkeeping (record, then send, then settle from history) keeps each card single.
    """

    def __init__(self, delay: Callable[[], float], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.delay = delay

    async def _post_message(self, record: Any, channel: str) -> Any:
        if isinstance(record.body, dict):
            record.body.pop("enforce_nonce", None)
        response = await super()._post_message(record, channel)
        await asyncio.sleep(self.delay())
        return response


class DiscordTarget:
    platform = "discord"
    ARXIV = "https://arxiv.org/abs/"

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.workspace = fake.GUILD_ID
        self.channels = fake.guilds[fake.GUILD_ID]

    def env(self) -> dict[str, str]:
        return self.fake.env()

    def attempts(self) -> int:
        return self.fake.count("POST /channels/*/messages")

    def cards(self, channel: str) -> list[tuple[str, str]]:
        return [
            (embed["url"].removeprefix(self.ARXIV), m["id"])
            for m in self.fake.messages(channel)
            for embed in m["embeds"][:1]
            if embed.get("url", "").startswith(self.ARXIV)
        ]


def discord_channels(n: int) -> list[str]:
    return [str(930000000000000000 + i) for i in range(n)]


# -- a lane: one bot process, its database and its fake platform ------------------------


@dataclass
class Lane:
    name: str
    target: Target
    bot: BotProcess
    rng: random.Random
    kills: int = 0
    kill_moments: Counter = field(default_factory=Counter)
    left_pending: int = 0  # posts a kill left between "claimed" and "sent"

    def pending(self) -> int:
        return read_rows(self.bot.db_path, "SELECT count(*) FROM posts WHERE state = 'pending'")[0][
            0
        ]

    def expected(self, feed: Feed) -> dict[str, set[str]]:
        return {
            channel: {p["id"] for p in feed.papers() if wanted(p)}
            for channel, (_, wanted) in zip(self.target.channels, SUBSCRIPTIONS, strict=True)
        }

    def done(self, feed: Feed) -> bool:
        expected = self.expected(feed)
        for channel in self.target.channels:
            if {paper for paper, _ in self.target.cards(channel)} != expected[channel]:
                return False
        return self.pending() == 0

    def context(self) -> str:
        return f"lane {self.name}, seed {SEED}, {self.kills} kills\n{self.bot.log_tail()}"


def seed_subscriptions(db_path: str, target: Target) -> None:
    store = Store(open_db(db_path))
    try:
        for channel, (subs, _) in zip(target.channels, SUBSCRIPTIONS, strict=True):
            for options in subs:
                store.add_subscription(
                    Subscription(
                        platform=target.platform,
                        workspace=target.workspace,
                        channel=channel,
                        feed=SourceFeed("hf"),
                        **options,
                    )
                )
    finally:
        store.db.close()


def make_lane(
    name: str,
    target: Target,
    sources: FakePaperSources,
    workdir: Path,
    rng: random.Random,
    zygote: Zygote,
) -> Lane:
    workdir.mkdir()
    db_path = str(workdir / "paperboy.db")
    seed_subscriptions(db_path, target)
    env = {
        "PAPERBOY_DB": db_path,
        "POLL_INTERVAL": "1",
        "LOG_LEVEL": "INFO",  # settling logs what it found in the channel
        "MAX_POSTS_PER_POLL": str(MAX_POSTS_PER_POLL),
        **sources_env(sources),
        **target.env(),
    }
    return Lane(name, target, BotProcess(env, workdir, name, zygote), rng)


async def kill_at_a_random_moment(lane: Lane, start_seconds: float) -> None:
    """Start the bot, then SIGKILL it after a random delay or just after its n-th post."""
    lane.left_pending += lane.pending()
    await lane.bot.start()
    if lane.rng.random() < 0.3:
        # Anywhere in start-up and the first round: connecting, settling, fetching, posting.
        await asyncio.sleep(lane.rng.uniform(0.05, start_seconds + 0.5))
        lane.kill_moments["timer"] += 1
    else:
        target = lane.target.attempts() + lane.rng.randint(1, 5)
        with contextlib.suppress(AssertionError):  # nothing left to post: kill it anyway
            await wait_until(
                lambda: lane.target.attempts() >= target or lane.bot.crashed,
                timeout=start_seconds + 3,
                interval=0.002,
            )
        # Before, during or after the fake's (delayed) answer.
        await asyncio.sleep(lane.rng.uniform(0.0, ANSWER_DELAY[1] * 1.5))
        lane.kill_moments["after post"] += 1
    assert not lane.bot.crashed, f"the bot exited on its own\n{lane.context()}"
    await lane.bot.kill()
    lane.kills += 1


async def run_lane(lane: Lane, kills: int, feed: Feed, start_seconds: float, growth: float) -> None:
    for _ in range(kills):
        if lane.rng.random() < growth:  # a new paper: more to post, in every lane
            feed.grow()
        await kill_at_a_random_moment(lane, start_seconds)


async def finish(lane: Lane, feed: Feed, timeout: float) -> None:
    """Let the bot run undisturbed until it has posted everything, then stop it cleanly."""
    lane.left_pending += lane.pending()
    rounds_before = lane.bot.log().count(ROUND_FETCHED)
    await lane.bot.start()

    def finished() -> bool:
        # At least one round of this run (its settling included) before judging the channel.
        return lane.bot.log().count(ROUND_FETCHED) > rounds_before and lane.done(feed)

    try:
        await wait_until(lambda: finished() or lane.bot.crashed, timeout, interval=0.1)
    except AssertionError:
        raise AssertionError(f"posting did not finish in {timeout}s\n{lane.context()}") from None
    assert not lane.bot.crashed, lane.context()
    assert await lane.bot.stop() == 0, lane.context()


def check_exactly_once(lane: Lane, feed: Feed) -> None:
    expected = lane.expected(feed)
    target = lane.target
    rows = read_rows(
        lane.bot.db_path,
        "SELECT channel, paper_id, message_id, state FROM posts WHERE platform = ?",
        (target.platform,),
    )
    recorded = {(channel, paper): (message, state) for channel, paper, message, state in rows}
    for channel in target.channels:
        cards = target.cards(channel)
        counts = Counter(paper for paper, _ in cards)
        doubled = {paper: n for paper, n in counts.items() if n > 1}
        assert not doubled, f"posted twice in {channel}: {doubled}\n{lane.context()}"
        assert set(counts) == expected[channel], f"{channel} is missing papers\n{lane.context()}"
        for paper, message in cards:  # the database points at the one card in the channel
            assert recorded[(channel, paper)] == (message, "sent"), lane.context()
    assert sum(len(e) for e in expected.values()) == len(recorded), lane.context()
    assert "Traceback" not in lane.bot.log(), lane.context()


async def kill_many_times(
    lanes: list[Lane], feed: Feed, kills: int, start_seconds: float, growth: float
) -> None:
    """``growth``: the chance that a lane adds a paper to the feed before one of its starts."""
    per_lane = math.ceil(kills / len(lanes))
    started = time.perf_counter()
    try:
        await asyncio.gather(
            *(run_lane(lane, per_lane, feed, start_seconds, growth) for lane in lanes)
        )
        finish_timeout = 30 + feed.count * 2.0
        await asyncio.gather(*(finish(lane, feed, finish_timeout) for lane in lanes))
    finally:
        for lane in lanes:
            await lane.bot.aclose()
    for lane in lanes:
        check_exactly_once(lane, feed)
    total = sum(lane.kills for lane in lanes)
    moments = sum((lane.kill_moments for lane in lanes), Counter())
    pending = sum(lane.left_pending for lane in lanes)
    found = sum(lane.bot.log().count("was posted before a restart") for lane in lanes)
    print(
        f"\n{lanes[0].target.platform}: {total} kills ({dict(moments)}) in "
        f"{time.perf_counter() - started:.0f} s, {feed.count} papers, seed {SEED}: "
        f"{pending} posts left pending, {found} of them found in the channel on restart"
    )
    assert total >= kills


@pytest.fixture
async def zygote() -> AsyncIterator[Zygote]:
    zygote = await Zygote().start()
    yield zygote
    await zygote.aclose()


@pytest.fixture
async def feed() -> AsyncIterator[Feed]:
    # Every date serves the same growing list: the bot asks for today and yesterday.
    async with FakePaperSources(daily_files={}, default_daily_file=None) as sources:
        yield Feed(sources)


@pytest.mark.timeout(timeout_for(SLACK_KILLS, SLACK_LANES, 2.5))
async def test_slack_kill_9_never_doubles_or_loses_a_post(
    feed: Feed, tmp_path: Path, zygote: Zygote
) -> None:
    rng = random.Random(SEED)
    async with contextlib.AsyncExitStack() as stack:
        lanes = []
        for i in range(SLACK_LANES):
            fake = await stack.enter_async_context(FakeSlack())
            target = SlackTarget(fake, socket_mode=i % 2 == 0, rng=random.Random(rng.random()))
            mode = "socket" if target.socket_mode else "http"
            lanes.append(
                make_lane(
                    f"slack-{mode}-{i}",
                    target,
                    feed.sources,
                    tmp_path / f"slack{i}",
                    random.Random(rng.random()),
                    zygote,
                )
            )
        # Slack posts one message a second per channel: about one new paper per kill round
        # across all lanes keeps each lane busy without piling up a backlog.
        await kill_many_times(lanes, feed, SLACK_KILLS, start_seconds=0.6, growth=1 / SLACK_LANES)


@pytest.mark.timeout(timeout_for(DISCORD_KILLS, DISCORD_LANES, 5.0))
async def test_discord_kill_9_never_doubles_or_loses_a_post(
    feed: Feed, tmp_path: Path, zygote: Zygote
) -> None:
    rng = random.Random(SEED + 1)
    async with contextlib.AsyncExitStack() as stack:
        lanes = []
        for i in range(DISCORD_LANES):
            delay = answer_delay(random.Random(rng.random()))
            guild = {FakeDiscord.GUILD_ID: discord_channels(len(SUBSCRIPTIONS))}
            fake = await stack.enter_async_context(SlowDiscord(delay, guilds=guild))
            lanes.append(
                make_lane(
                    f"discord-{i}",
                    DiscordTarget(fake),
                    feed.sources,
                    tmp_path / f"discord{i}",
                    random.Random(rng.random()),
                    zygote,
                )
            )
        # discord.py waits 2 s for guilds before it is ready; then it posts without pacing.
        await kill_many_times(lanes, feed, DISCORD_KILLS, start_seconds=2.5, growth=0.5)
