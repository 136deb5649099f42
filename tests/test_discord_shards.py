"""Discord sharding: processes that each own some shards of one bot, sharing one database.

Each "process" here is a core with its own Store connection to one SQLite file and its own
discord.py ``AutoShardedClient``, against a fake Discord serving 2 shards: guilds arrive
only on their shard, events for a guild only on its shard's session, IDENTIFYs of one
bucket closer than the fake's interval are refused, and past 50 bot requests in any
second it answers 429 ``global: true``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
import time
from collections.abc import AsyncIterator

import pytest

from adapters.discord.client import DiscordAdapter
from adapters.discord.settings import DiscordSettings, parse_shard_ids
from adapters.platform import PlatformStartError
from bot.config import Settings, SettingsError
from bot.events import ChannelRef, Event, ReactionChanged
from bot.model.feed import Feed
from bot.model.subscription import Subscription
from bot.replies import Text
from tests.botprocess import BotProcess, sources_env
from tests.conftest import BACKENDS, FakeClock, close_bot, database_settings, make_bot, open_store
from tests.fakes.discord import MANAGE_CHANNELS, FakeDiscord, sharded_guilds
from tests.fakes.local_server import wait_until
from tests.fakes.paper_sources import FakePaperSources

IDENTIFY_INTERVAL = 0.4  # Discord's 5 s, shortened for the suite (the fake's and ours)
GUILDS = sharded_guilds(4)  # guilds 0 and 2 on shard 0, 1 and 3 on shard 1
G0, G1 = list(GUILDS)[:2]
C0, C1 = GUILDS[G0][0], GUILDS[G1][0]


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(
        guilds={g: list(cs) for g, cs in GUILDS.items()},
        shards=2,
        max_concurrency=1,
        identify_interval=IDENTIFY_INTERVAL,
    ) as fake:
        yield fake


@contextlib.asynccontextmanager
async def processes(
    fake: FakeDiscord, settings: Settings, clock: FakeClock, *shard_ids: str, **discord: object
) -> AsyncIterator[list[DiscordAdapter]]:
    """One core and adapter per entry of ``shard_ids`` (``DISCORD_SHARD_IDS``), all on one
    database and started at once."""
    adapters = []
    for ids in shard_ids:
        core = make_bot(settings, clock)
        overrides = {"shard_count": 2, "shard_ids": ids} if ids else {}
        adapter = DiscordAdapter(
            core,
            fake.settings(**overrides, **discord),
            guild_ready_timeout=0.05,
            identify_interval=IDENTIFY_INTERVAL,
        )
        core.attach(adapter)
        adapters.append(adapter)
    try:
        await asyncio.gather(*(a.start() for a in adapters))
        yield adapters
    finally:
        for adapter in adapters:
            await adapter.stop()
            await close_bot(adapter.bot)
    assert fake.unhandled == []


def guild_ids(adapter: DiscordAdapter) -> set[str]:
    return {str(g.id) for g in adapter.client.guilds}


def record(adapter: DiscordAdapter) -> list[tuple[str, str]]:
    """(kind, guild id) of every event this process's core is handed, from now on."""
    seen: list[tuple[str, str]] = []
    handle = adapter.bot.handle

    async def recording(event: Event) -> None:
        channel = event.target.channel if isinstance(event, ReactionChanged) else event.channel
        seen.append((type(event).__name__, channel.workspace))
        await handle(event)

    adapter.bot.handle = recording  # type: ignore[method-assign]
    return seen


# -- settings -----------------------------------------------------------------------------


def test_shard_ids_are_lists_and_ranges() -> None:
    assert parse_shard_ids("0,1") == [0, 1]
    assert parse_shard_ids(" 4-6, 0 ,5") == [0, 4, 5, 6]
    for bad in ("", "a", "1-", "3-1", "0,,1", "-1", "0-99999999"):
        assert parse_shard_ids(bad) is None, bad
    settings = DiscordSettings(shard_count=4, shard_ids="2-3")
    assert settings.shards(recommended=1) == (4, [2, 3])
    assert DiscordSettings().shards(recommended=3) == (3, [0, 1, 2])  # Discord's count, all


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"DISCORD_SHARD_IDS": "0,1"}, "DISCORD_SHARD_IDS='0,1' needs DISCORD_SHARD_COUNT"),
        (
            {"DISCORD_SHARD_IDS": "1-2", "DISCORD_SHARD_COUNT": "2"},
            "DISCORD_SHARD_IDS='1-2' names shard 2, but shards go from 0 to 1",
        ),
        ({"DISCORD_SHARD_IDS": "one", "DISCORD_SHARD_COUNT": "2"}, "must list shard numbers"),
        ({"DISCORD_SHARD_COUNT": "-2"}, "DISCORD_SHARD_COUNT='-2' must be 0"),
        ({"DISCORD_REQUESTS_PER_SECOND": "60"}, "more than Discord allows (50)"),
    ],
)
def test_bad_shard_settings_name_the_setting(env: dict[str, str], says: str) -> None:
    with pytest.raises(SettingsError) as refused:
        DiscordSettings.from_env(env)
    assert says in str(refused.value)


# -- shards across processes ------------------------------------------------------------


async def test_each_process_connects_its_shards_and_starts_wait_for_their_bucket(
    fake: FakeDiscord, settings: Settings, clock: FakeClock
) -> None:
    async with processes(fake, settings, clock, "0", "1") as (first, second):
        assert guild_ids(first) == set(fake.guilds_of_shard(0)) == {G0, list(GUILDS)[2]}
        assert guild_ids(second) == set(fake.guilds_of_shard(1)) == {G1, list(GUILDS)[3]}
        assert sorted(i["shard"] for i in fake.identifies) == [[0, 2], [1, 2]]
        assert fake.ready_shards == {0, 1}
    # max_concurrency 1: one bucket for both shards, whichever process starts them.
    assert fake.identify_refused == []
    assert min(fake.identify_gaps()) >= IDENTIFY_INTERVAL


async def test_without_shard_settings_one_process_runs_discords_recommended_shards(
    fake: FakeDiscord, settings: Settings, clock: FakeClock
) -> None:
    async with processes(fake, settings, clock, "") as (only,):
        assert (only.shard_count, only.shard_ids) == (2, [0, 1])
        assert guild_ids(only) == set(GUILDS)
    assert fake.identify_refused == [] and min(fake.identify_gaps()) >= IDENTIFY_INTERVAL


async def test_buckets_of_max_concurrency_start_together(
    settings: Settings, clock: FakeClock
) -> None:
    async with FakeDiscord(
        guilds=sharded_guilds(4), shards=2, max_concurrency=2, identify_interval=60
    ) as fake:
        started = time.monotonic()
        async with processes(fake, settings, clock, "0", "1"):
            assert time.monotonic() - started < 30  # neither waited for the other's bucket
        assert fake.identify_refused == [] and fake.identify_gaps() == []


async def test_a_command_and_a_reaction_reach_only_the_process_of_their_shard(
    fake: FakeDiscord, settings: Settings, clock: FakeClock
) -> None:
    async with processes(fake, settings, clock, "0", "1") as (first, second):
        events = [record(first), record(second)]

        interaction = await fake.inject_interaction(
            "subscribe", {"source": "hf"}, channel_id=C1, permissions=MANAGE_CHANNELS
        )
        (reply,) = await wait_until(lambda: interaction.replies)
        assert reply["content"].startswith("Subscribed this channel")
        assert events == [[], [("CommandInvoked", G1)]]
        (sub,) = first.bot.store.subscriptions()  # one database: every process sees it
        assert (sub.workspace, sub.channel) == (G1, C1)

        # One poster for the deployment: the first process posts in shard 1's guild too.
        first.bot.store.add_subscription(
            Subscription(platform="discord", workspace=G0, channel=C0, feed=Feed("hf"))
        )
        report = await first.bot.poster.run_once()
        assert report.posted > 0 and fake.messages(C0) and fake.messages(C1)

        card = next(m for m in fake.messages(C1) if "interaction_metadata" not in m)
        paper_id = first.bot.store.post_for_message("discord", G1, C1, card["id"]).paper_id
        await fake.inject_reaction(card["id"], "👍", user_id="11")
        await wait_until(lambda: second.bot.store.net_votes("discord", G1, paper_id) == 1)
        assert events == [[], [("CommandInvoked", G1), ("ReactionChanged", G1)]]
        assert first.bot.store.net_votes("discord", G0, paper_id) == 0

        # Re-reading reactions (at start, after a session lost): each process its own guilds.
        posts = first.bot.store.recent_posts("discord", 0)
        sent = {g: sum(p.workspace == g for p in posts) for g in (G0, G1)}
        assert sent[G0] > 0 and sent[G1] > 0
        assert (await first.bot.reconciler.reconcile("discord")).posts == sent[G0]
        assert (await second.bot.reconciler.reconcile("discord")).posts == sent[G1]


async def test_a_used_up_session_start_limit_is_one_clear_error(
    fake: FakeDiscord, settings: Settings, clock: FakeClock
) -> None:
    fake.session_starts_remaining = 1
    with pytest.raises(PlatformStartError, match="1 more gateway session start"):
        async with processes(fake, settings, clock, ""):
            pass


# -- one REST budget for all processes ----------------------------------------------------

POSTS_EACH = 50


async def post_from_both(adapters: list[DiscordAdapter]) -> float:
    """Every process posts POSTS_EACH messages over the four channels at once."""
    channels = [ChannelRef("discord", g, cs[0]) for g, cs in GUILDS.items()]
    started = time.monotonic()
    await asyncio.gather(
        *(
            adapter.send(channels[i % len(channels)], Text(f"post {n}-{i}", public=True))
            for n, adapter in enumerate(adapters)
            for i in range(POSTS_EACH)
        )
    )
    return time.monotonic() - started


async def test_processes_share_discords_global_limit(
    fake: FakeDiscord, settings: Settings, clock: FakeClock
) -> None:
    async with processes(fake, settings, clock, "0", "1") as adapters:
        fake.bot_request_times.clear()  # start-up requests are not part of the burst
        elapsed = await post_from_both(adapters)
    assert len(fake.all_messages()) == 2 * POSTS_EACH
    assert fake.global_refusals == 0
    assert fake.busiest_second <= 50
    # 45 a second between them (DISCORD_REQUESTS_PER_SECOND), not 45 each.
    assert elapsed >= (2 * POSTS_EACH - 1) / 45 * 0.95


async def test_without_the_shared_budget_two_processes_overrun_it(
    fake: FakeDiscord, settings: Settings, clock: FakeClock
) -> None:
    # The control for the test above: the fake does notice a bot over 50 a second.
    async with processes(fake, settings, clock, "0", "1", requests_per_second=0) as adapters:
        await post_from_both(adapters)
    assert fake.busiest_second > 50 and fake.global_refusals > 0
    assert len(fake.all_messages()) == 2 * POSTS_EACH  # discord.py waited out the 429s


@pytest.mark.parametrize("backend", BACKENDS)
def test_reserved_slots_never_overlap_between_connections(
    backend: str, request: pytest.FixtureRequest, tmp_path
) -> None:
    db = database_settings(backend, request, tmp_path)
    stores = [open_store(db), open_store(db)]
    try:
        now, taken = 1000.0, []
        for round_ in range(20):
            store = stores[round_ % 2]
            count = 1 + round_ % 3
            start = store.reserve_rate_slots("budget", count, 0.1, now + round_ * 0.01)
            taken.append((start, start + count * 0.1))
        taken.sort()
        assert all(b[0] >= a[1] - 1e-9 for a, b in itertools.pairwise(taken))
        assert taken[0][0] == now  # an unused budget starts now
        # An idle budget saves nothing up: much later, the next slot starts then.
        assert stores[0].reserve_rate_slots("budget", 1, 0.1, now + 100) == now + 100
        assert stores[1].reserve_rate_slots("other", 1, 0.1, now) == now  # budgets apart
    finally:
        for store in stores:
            store.close()


# -- the real thing: two `paperboy run` processes, one shard each ------------------------


async def test_two_paperboy_processes_each_serve_their_shard(tmp_path) -> None:
    db_path = str(tmp_path / "paperboy.db")
    store = open_store(Settings(db_path=db_path))
    for guild, channel in ((G0, C0), (G1, C1)):
        store.add_subscription(
            Subscription(platform="discord", workspace=guild, channel=channel, feed=Feed("hf"))
        )
    store.close()
    async with (
        FakePaperSources() as sources,
        FakeDiscord(guilds={g: list(cs) for g, cs in GUILDS.items()}, shards=2) as fake,
    ):
        fake.max_concurrency = 2  # one bucket per shard: the two start at once
        env = {
            "PAPERBOY_DB": db_path,
            "POLL_INTERVAL": "1",
            "LOG_LEVEL": "INFO",
            "MAX_POSTS_PER_POLL": "100",  # every paper of the day in one round
            "DISCORD_SHARD_COUNT": "2",
            **fake.env(),
            **sources_env(sources),
        }
        bots = [BotProcess({**env, "DISCORD_SHARD_IDS": ids}, tmp_path, f"s{ids}") for ids in "01"]
        try:
            await asyncio.gather(*(bot.start() for bot in bots))
            await wait_until(lambda: fake.ready_shards == {0, 1}, 60)
            for ids, bot in zip("01", bots, strict=True):
                await wait_until(lambda bot=bot, ids=ids: f"shard(s) {ids} of 2" in bot.log(), 30)

            def cards(channel: str) -> list[dict]:
                return [m for m in fake.messages(channel) if m["embeds"]]

            # One poster posts to both shards' channels, and is done before the stop.
            def done(channel: str) -> bool:
                last_round = rf"{channel}: posted \d+, waiting 0, skipped \d+, failed 0"
                return any(re.search(last_round, bot.log()) for bot in bots)

            await wait_until(lambda: done(C0) and done(C1), 90, interval=0.1)
            assert cards(C0) and cards(C1)
            interaction = await fake.inject_interaction("help", channel_id=C1)
            (reply,) = await wait_until(lambda: interaction.replies, 30)
            assert reply["embeds"][0]["title"] == "paperboy commands"

            card = cards(C1)[0]
            await fake.inject_reaction(card["id"], "👍", user_id="11")
            reader = open_store(Settings(db_path=db_path))
            try:
                paper_id = reader.post_for_message("discord", G1, C1, card["id"]).paper_id
                await wait_until(lambda: reader.net_votes("discord", G1, paper_id) == 1, 30)
            finally:
                reader.close()
            for bot in bots:
                assert await bot.stop() == 0, bot.log_tail()
                assert "Traceback" not in bot.log(), bot.log_tail()
        finally:
            for bot in bots:
                await bot.aclose()
    assert sorted(i["shard"] for i in fake.identifies) == [[0, 2], [1, 2]]
    assert fake.identify_refused == [] and fake.global_refusals == 0
    assert fake.busiest_second <= 50
