"""One paperboy for 1,000 Discord servers: issue 15's simulation, Discord half.

The fake Discord serves 1,000 guilds over 2 shards; two real ``paperboy run`` processes,
``DISCORD_SHARD_IDS=0`` and ``1``, share one PostgreSQL database. Every guild subscribes one
channel with ``/papers subscribe`` (a member who may manage channels, on its shard's
session). Then:

1. one round posts a new paper to all 1,000 channels: each exactly once, within 1.2x the
   bound of the bot's REST budget (paperboy's 45 requests a second of Discord's 50; the
   ratio to 50 is reported too; the poster posts to both shards' channels through the
   shared budget);
2. the poster is killed with SIGKILL mid-round: the other process takes over, nothing is
   lost or doubled; the killed one comes back and connects its shard again;
3. votes in 50 guilds (the same user ids everywhere) give 50 separate exact leaderboards
   through ``/papers top``, each answered by the process of the guild's shard.

The issue's round is 5 papers (5,000 posts, at least 100 s at 50 a second): set
``PAPERBOY_SIM_GUILD_PAPERS=5`` for it; the suite posts 1 (20 s). ``PAPERBOY_SIM_GUILDS``
sets the number of guilds.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

import pytest

from bot.config import Settings
from tests.botprocess import BotProcess, sources_env
from tests.fakes.discord import MANAGE_CHANNELS, FakeDiscord, sharded_guilds
from tests.fakes.local_server import wait_until
from tests.fakes.paper_sources import FakePaperSources
from tests.many_workspaces import LEADING, ROUND, this_life
from tests.pg_server import PostgresServer
from tests.test_kill_posting import Feed
from tests.test_two_processes import Reader

GUILDS = int(os.environ.get("PAPERBOY_SIM_GUILDS", "1000"))
PAPERS = int(os.environ.get("PAPERBOY_SIM_GUILD_PAPERS", "1"))
VOTING = min(50, GUILDS)
VOTERS = ["11", "12"]  # the same user ids in every guild
RATE = 50.0  # Discord's global limit, requests a second for the whole bot
BUDGET = 45.0  # paperboy's share of it (DISCORD_REQUESTS_PER_SECOND): a margin for jitter
CONCURRENCY = 40


def cards(fake: FakeDiscord) -> dict[str, list[str]]:
    """Message ids of the bot's cards (not interaction answers), by channel."""
    return {
        channel: [m["id"] for m in messages if m["embeds"] and "interaction_metadata" not in m]
        for channel, messages in fake.channel_messages.items()
    }


@pytest.mark.timeout(900)
async def test_a_thousand_guilds_on_two_shard_processes(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    guilds = sharded_guilds(GUILDS)
    channel_of = {g: cs[0] for g, cs in guilds.items()}
    database_url = postgres_server.new_database()
    async with (
        FakePaperSources(daily_files={}, default_daily_file=None) as sources,
        FakeDiscord(guilds={g: list(cs) for g, cs in guilds.items()}, shards=2) as fake,
    ):
        fake.max_concurrency = 2  # one IDENTIFY bucket per shard: the two start at once
        feed = Feed(sources, first=0)
        env = {
            "DATABASE_URL": database_url,
            "PAPERBOY_DB": str(tmp_path / "unused.db"),
            "PAPERBOY_SEARCH_DIR": str(tmp_path / "search"),
            "POLL_INTERVAL": "2",
            "MAX_POSTS_PER_POLL": str(PAPERS + 1),
            "LOG_LEVEL": "INFO",
            "DISCORD_SHARD_COUNT": "2",
            **fake.env(),
            **sources_env(sources),
        }
        bots = [BotProcess({**env, "DISCORD_SHARD_IDS": i}, tmp_path, f"s{i}") for i in "01"]
        db = Reader(Settings(database_url=database_url))

        def context() -> str:
            return "\n".join(f"--- {b.log_path.name}\n{b.log_tail(20)}" for b in bots)

        def poster() -> BotProcess:
            (found,) = [b for b in bots if b.running and LEADING in this_life(b)]
            return found

        async def connected(bot: BotProcess, shard: str) -> None:
            life = lambda: this_life(bot)  # noqa: E731
            await wait_until(lambda: f"shard(s) {shard} of 2" in life(), 120, 0.05)
            await wait_until(lambda: "Discord connected" in life(), 120, 0.05)

        def settled(papers: list[str]) -> bool:
            shown = cards(fake)
            pending = db.rows("SELECT count(*) FROM posts WHERE state = 'pending'")[0][0]
            return pending == 0 and all(
                len(shown.get(c, ())) == len(papers) for c in channel_of.values()
            )

        gate = asyncio.Semaphore(CONCURRENCY)

        async def ask(subcommand: str, options: dict, guild: str, **kw) -> str:
            async with gate:
                interaction = await fake.inject_interaction(
                    subcommand, options, channel_id=channel_of[guild], **kw
                )
                (reply, *_) = await wait_until(lambda: interaction.replies, 60)
            return json.dumps(reply, ensure_ascii=False)

        try:
            started = time.monotonic()
            await asyncio.gather(*(bot.start() for bot in bots))
            await asyncio.gather(*(connected(bot, i) for bot, i in zip(bots, "01", strict=True)))
            start_seconds = time.monotonic() - started

            answers = await asyncio.gather(
                *(
                    ask("subscribe", {"source": "hf"}, g, permissions=MANAGE_CHANNELS)
                    for g in guilds
                )
            )
            assert all("Subscribed this channel" in a for a in answers), answers[:3]

            # Round 1, once a round has started since the last subscription.
            rounds = this_life(poster()).count(ROUND)
            await wait_until(lambda: this_life(poster()).count(ROUND) >= rounds + 2, 60, 0.05)
            earlier = {m for ids in cards(fake).values() for m in ids}
            feed.grow(PAPERS)
            # The bound is 50 a second; paperboy spends 45 on purpose (README), so the
            # round is held to 1.2x the bound at its own budget, and both ratios reported.
            bound = GUILDS * PAPERS / RATE
            own_bound = GUILDS * PAPERS / BUDGET
            papers = [p["id"] for p in feed.papers()]
            await wait_until(lambda: settled(papers), 60 + 2 * bound, 0.2)
            # A message id is a snowflake: the milliseconds the fake stored it at, shifted.
            posts = sorted(
                int(m) >> 22 for ids in cards(fake).values() for m in ids if m not in earlier
            )
            round_seconds = (posts[-1] - posts[0]) / 1000
            print(
                f"\n[many guilds] {GUILDS} guilds over 2 shard processes up in "
                f"{start_seconds:.1f} s; round of {len(posts)} posts in {round_seconds:.1f} s "
                f"({round_seconds / bound:.2f}x the bound at 50/s, "
                f"{round_seconds / own_bound:.2f}x at paperboy's 45/s); "
                f"busiest second {fake.busiest_second}, "
                f"{fake.global_refusals} global 429s"
            )
            assert len(posts) == GUILDS * PAPERS
            assert round_seconds <= 1.2 * own_bound, context()
            # Not asserted here: the busiest second as the fake saw it. Under a loaded machine
            # the fake (in this process) reads requests in bursts after a stall; the shared
            # budget itself is tested in test_discord_shards.py.

            # Round 2: the poster is killed mid-round; the other finishes; it comes back.
            feed.grow(1)
            papers = [p["id"] for p in feed.papers()]
            killed = poster()
            before = sum(len(ids) for ids in cards(fake).values())
            await wait_until(
                lambda: sum(len(ids) for ids in cards(fake).values()) >= before + GUILDS // 3,
                60,
                0.005,
            )
            await killed.kill()
            await wait_until(lambda: settled(papers), 60 + 2 * GUILDS / RATE, 0.2)
            await killed.start()
            await connected(killed, killed.log_path.stem[1:])

            # Votes in 50 guilds, by the same user ids: 50 separate leaderboards.
            voting = list(guilds)[-VOTING:]
            rows = db.rows("SELECT workspace, message_id, paper_id FROM posts WHERE state = 'sent'")
            paper_of = {(g, m): p for g, m, p in rows}
            shown = cards(fake)
            wanted: dict[str, list[tuple[str, int]]] = {}
            for n, guild in enumerate(voting):
                votes = []
                for i, message in enumerate(shown[channel_of[guild]][:2]):
                    ups = 1 + (n + i) % 2  # 1 and 2, in turn: no ties, rankings differ
                    votes.append((paper_of[(guild, message)], ups))
                    for user in VOTERS[:ups]:
                        await fake.inject_reaction(message, "👍", user_id=user)
                wanted[guild] = sorted(votes, key=lambda v: -v[1])

            def board(guild: str) -> list[tuple[str, int]]:
                return [
                    (p, int(s))
                    for p, s in db.rows(
                        "SELECT paper_id, sum(value) FROM votes WHERE platform = 'discord' "
                        f"AND workspace = '{guild}' GROUP BY paper_id ORDER BY 2 DESC"
                    )
                ]

            await wait_until(lambda: all(board(g) == wanted[g] for g in voting), 60, 0.2)
            assert all(board(g) == [] for g in list(guilds)[: GUILDS - VOTING])
            titles = {p["id"]: p["title"] for p in feed.papers()}
            tops = await asyncio.gather(*(ask("top", {"period": "all"}, g) for g in voting))
            for guild, top in zip(voting, tops, strict=True):
                where = {p: top.find(titles[p]) for p, _ in wanted[guild]}
                assert all(i >= 0 for i in where.values()), (guild, top)
                assert sorted(where, key=where.__getitem__) == [p for p, _ in wanted[guild]]
        finally:
            for bot in bots:
                await bot.aclose()
            db.close()

    for bot in bots:
        assert "Traceback" not in bot.log(), context()
