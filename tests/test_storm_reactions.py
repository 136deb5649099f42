"""A reaction storm: 10,000 add/remove events from 500 users over 50 papers, nothing dropped.

Through the Slack HTTP adapter (signed requests, many in flight at once) and through the
Discord gateway (one ordered stream, dropped and resumed twice mid-storm). Events come
with re-deliveries, reactions from the bot itself, non-vote emoji and reactions on other
messages, and one user stuffing every up emoji on every post of one paper. The final
ledger must equal, exactly, what the reactions left standing say: per reaction, per user
vote and per paper net. The rate held is printed, not asserted.

A user's own events stay in order (a person cannot remove a reaction before adding it);
different users' events interleave freely.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace

import pytest

from adapters.discord.client import DiscordAdapter
from adapters.slack.app import SlackAdapter
from bot.config import Settings
from bot.core import Bot
from bot.events import ChannelRef, MessageRef
from bot.model.paper import Paper
from bot.replies import PaperCard
from bot.votes import VoteRules
from tests.conftest import FakeClock, close_bot, make_bot
from tests.fakes.discord import FakeDiscord
from tests.fakes.local_server import wait_until
from tests.fakes.slack import FakeSlack
from tests.isolation import logger_levels_restored  # noqa: F401 (autouse)

EVENTS = 10_000
USERS = 500
PAPERS = [f"2605.{i:05d}" for i in range(1, 51)]
TWICE = PAPERS[:10]  # also posted in a second channel: one vote per user still
POSTS = PAPERS + TWICE  # what each posted card shows, in posting order
STUFFED = PAPERS[0]
IN_FLIGHT = 64  # Slack requests open at once
PER_USER_KEYS = 8  # each user keeps coming back to a few (post, emoji) pairs

SLACK_EMOJI = ["+1", "thumbsup", "fire", "+1::skin-tone-3", "-1", "thumbsdown", "tada", "eyes"]
DISCORD_EMOJI = ["👍", "🔥", "⬆️", "👍🏽", "👎", "⬇️", "🎉", "👀"]


@dataclass(frozen=True)
class Reaction:
    user: str
    post: int  # index into the posted cards; -1: a message that is not a card
    emoji: str
    added: bool
    event_id: str
    resent: bool = False  # a re-delivery of the event before it


@dataclass
class Storm:
    events: list[Reaction]
    standing: set[tuple[str, int, str]]  # (user, post, emoji) present at the end

    def by_user(self) -> dict[str, list[Reaction]]:
        streams: dict[str, list[Reaction]] = defaultdict(list)
        for event in self.events:
            streams[event.user].append(event)
        return streams


def make_storm(
    rng: random.Random,
    users: list[str],
    bot_user: str,
    stuffer: str,
    emoji: list[str],
    up: list[str],
) -> Storm:
    """EVENTS events consistent with what users did, plus noise that must change nothing."""
    standing: set[tuple[str, int, str]] = set()
    events: list[Reaction] = []

    def emit(user: str, post: int, name: str, added: bool | None = None) -> None:
        key = (user, post, name)
        if added is None:
            added = key not in standing
        if user != bot_user and post >= 0:
            (standing.add if added else standing.discard)(key)
        events.append(Reaction(user, post, name, added, f"Ev{len(events):06d}"))
        if rng.random() < 0.08:  # the platform delivers it again
            events.append(replace(events[-1], resent=True))

    for post in (i for i, paper in enumerate(POSTS) if paper == STUFFED):
        for name in up:
            emit(stuffer, post, name, added=True)
    habits = {
        user: [(rng.randrange(len(POSTS)), rng.choice(emoji)) for _ in range(PER_USER_KEYS)]
        for user in users
    }
    while len(events) < EVENTS:
        roll = rng.random()
        if roll < 0.01:  # the bot's own reaction: never a vote
            emit(bot_user, rng.randrange(len(POSTS)), rng.choice(up))
        elif roll < 0.02:  # a reaction on somebody else's message
            emit(rng.choice(users), -1, rng.choice(up))
        else:
            user = rng.choice(users)
            emit(user, *rng.choice(habits[user]))
    return Storm(events[:EVENTS], standing)


def expected_ledger(
    storm: Storm, rules: VoteRules
) -> tuple[set[tuple], dict[tuple[str, str], int]]:
    """The vote reactions left standing, and each (paper, user)'s vote derived from them."""
    reactions = set()
    signs: dict[tuple[str, str], set[int]] = defaultdict(set)
    for user, post, name in storm.standing:
        value = rules.value(name)
        if value:
            reactions.add((post, user, name))
            signs[(POSTS[post], user)].add(value)
    votes = {key: s.pop() for key, s in signs.items() if len(s) == 1}
    return reactions, votes


class Ledger:
    """What paperboy's database says, in the model's terms."""

    def __init__(self, bot: Bot, platform: str, workspace: str, message_posts: dict[str, int]):
        self.bot = bot
        self.platform = platform
        self.workspace = workspace
        self.message_posts = message_posts  # message id -> post index

    def reactions(self) -> set[tuple]:
        rows = self.bot.store.db.execute(
            "SELECT message_id, user_id, emoji FROM reactions WHERE platform = ?",
            [self.platform],
        ).fetchall()
        return {(self.message_posts[m], u, e) for m, u, e in rows}

    def votes(self) -> dict[tuple[str, str], int]:
        rows = self.bot.store.db.execute(
            "SELECT paper_id, user_id, value FROM votes WHERE platform = ? AND workspace = ?",
            [self.platform, self.workspace],
        ).fetchall()
        return {(p, u): v for p, u, v in rows}

    def nets(self) -> dict[str, int]:
        return {p: self.bot.store.net_votes(self.platform, self.workspace, p) for p in PAPERS}


async def post_cards(bot: Bot, outbox, channels: list[ChannelRef]) -> list[MessageRef]:
    """Every paper posted as a card in the first channel, TWICE also in the second."""
    bot.store.save_papers([Paper(p, f"Paper {p}", published="2026-05-13") for p in PAPERS])
    refs = []
    for channel, papers in ((channels[0], PAPERS), (channels[1], TWICE)):
        for paper in papers:
            post_id = bot.store.claim_post(
                channel.platform, channel.workspace, channel.channel, paper
            )
            ref = await outbox.send(channel, PaperCard(bot.store.get_paper(paper), public=True))
            bot.store.complete_post(post_id, ref.message)
            refs.append(ref)
    return refs


async def settle(check: Callable[[], bool], started: float, label: str) -> None:
    """Wait for the ledger to match and print the rate the storm went through at.

    On a timeout it returns quietly: the assertions that follow show what differs.
    """
    with contextlib.suppress(AssertionError):
        await wait_until(check, timeout=30, interval=0.2)
        elapsed = time.perf_counter() - started
        print(
            f"\nreaction storm, {label}: {EVENTS} events in {elapsed:.1f} s "
            f"= {EVENTS / elapsed:,.0f} events/s"
        )


def assert_ledger(ledger: Ledger, reactions: set, votes: dict, stuffer: str) -> None:
    stored = ledger.reactions()
    missing, extra = sorted(reactions - stored), sorted(stored - reactions)
    # Every last add and remove applied, nothing more.
    assert not missing and not extra, f"missing {missing[:10]}, extra {extra[:10]}"
    assert ledger.votes() == votes
    nets = {p: sum(v for (paper, _), v in votes.items() if paper == p) for p in PAPERS}
    assert ledger.nets() == nets
    # Every up emoji on both posts of a paper: one vote.
    assert votes[(STUFFED, stuffer)] == 1


# -- Slack ----------------------------------------------------------------------------------


STUFFER = "USTUFFER"


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


async def test_slack_http_storm(
    bot: Bot, slack: FakeSlack, settings: Settings, capsys: pytest.CaptureFixture
) -> None:
    adapter = SlackAdapter(
        bot, slack.settings(socket_mode=False), http_host="127.0.0.1", post_interval=0.0
    )
    bot.attach(adapter)
    await adapter.start()
    url = f"http://127.0.0.1:{adapter.http_port}/slack/events"
    try:
        team = slack.team_id
        refs = await post_cards(
            bot, adapter, [ChannelRef("slack", team, "C1"), ChannelRef("slack", team, "C2")]
        )
        human = slack.seed_message("C1", "lunch?", user="UHUMAN")
        users = [f"U{i:04d}" for i in range(USERS)]
        storm = make_storm(
            random.Random(1),
            [*users, STUFFER],
            slack.bot_user_id,
            STUFFER,
            SLACK_EMOJI,
            SLACK_EMOJI[:4],
        )
        reactions, votes = expected_ledger(storm, bot.rules)
        ledger = Ledger(bot, "slack", team, {r.message: i for i, r in enumerate(refs)})
        gate = asyncio.Semaphore(IN_FLIGHT)

        async def deliver(event: Reaction) -> None:
            ref = refs[event.post] if event.post >= 0 else None
            payload = slack.reaction_payload(
                ref.message if ref else human,
                channel=ref.channel.channel if ref else "C1",
                user=event.user,
                emoji=event.emoji,
                added=event.added,
                item_user=slack.bot_user_id if ref else "UHUMAN",
                event_id=event.event_id,
            )
            async with gate:
                answer = await slack.deliver(payload, to=url, retry=int(event.resent))
            assert answer.status == 200

        async def user_session(stream: list[Reaction]) -> None:
            for event in stream:
                await deliver(event)

        started = time.perf_counter()
        await asyncio.gather(*(user_session(s) for s in storm.by_user().values()))
        with capsys.disabled():
            await settle(lambda: ledger.reactions() == reactions, started, "Slack HTTP")
    finally:
        await adapter.stop()
    assert_ledger(ledger, reactions, votes, STUFFER)


# -- Discord --------------------------------------------------------------------------------

SECOND_CHANNEL = FakeDiscord.OTHER_CHANNEL_ID
DISCORD_STUFFER = "719999999999999999"


@pytest.fixture
async def discord() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        yield fake


@pytest.fixture
async def discord_core(
    settings: Settings, clock: FakeClock, discord: FakeDiscord
) -> AsyncIterator[Bot]:
    bot = make_bot(settings, clock)
    yield bot
    await close_bot(bot)


async def test_discord_gateway_storm_with_resumes(
    discord_core: Bot, discord: FakeDiscord, capsys: pytest.CaptureFixture
) -> None:
    bot = discord_core
    adapter = DiscordAdapter(bot, discord.settings(), guild_ready_timeout=0.05)
    bot.attach(adapter)
    await adapter.start()
    try:
        guild = discord.GUILD_ID
        refs = await post_cards(
            bot,
            adapter,
            [
                ChannelRef("discord", guild, discord.CHANNEL_ID),
                ChannelRef("discord", guild, SECOND_CHANNEL),
            ],
        )
        other = discord.seed_message(discord.CHANNEL_ID, author_id=discord.USER_ID, content="hello")
        users = [str(710000000000000000 + i) for i in range(USERS)]
        storm = make_storm(
            random.Random(2),
            [*users, DISCORD_STUFFER],
            discord.bot_user_id,
            DISCORD_STUFFER,
            DISCORD_EMOJI,
            DISCORD_EMOJI[:4],
        )
        reactions, votes = expected_ledger(storm, bot.rules)
        ledger = Ledger(bot, "discord", guild, {r.message: i for i, r in enumerate(refs)})
        drops = {EVENTS // 3, 2 * EVENTS // 3}

        started = time.perf_counter()
        for n, event in enumerate(storm.events):
            if n in drops:  # Discord closes the gateway; the client resumes, events replay
                await wait_until(lambda: discord.connected, timeout=10)
                await discord.drop_connection()
            ref = refs[event.post] if event.post >= 0 else None
            await discord.inject_reaction(
                ref.message if ref else other["id"],
                event.emoji,
                added=event.added,
                user_id=event.user,
                channel_id=ref.channel.channel if ref else discord.CHANNEL_ID,
                bot=event.user == discord.bot_user_id,
            )
            if n % 500 == 0:
                await asyncio.sleep(0)  # let the client read while the storm goes on
        with capsys.disabled():
            await settle(lambda: ledger.reactions() == reactions, started, "Discord gateway")
    finally:
        await adapter.stop()
    assert_ledger(ledger, reactions, votes, DISCORD_STUFFER)
    assert len(discord.resumes) == len(drops) and len(discord.identifies) == 1
