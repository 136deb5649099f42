"""Votes cast while paperboy is down count after it restarts, on Slack and Discord, through the
real slack-bolt and discord.py clients against the local fakes."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

from adapters.discord.client import DiscordAdapter
from adapters.launch import run
from adapters.platform import Configured
from adapters.slack.app import SlackAdapter
from bot.config import Settings
from bot.events import ChannelRef, MessageRef
from bot.model.feed import Feed
from bot.model.subscription import Subscription
from storage.db import open_db
from storage.store import Store
from tests.conftest import close_bot, make_bot
from tests.fakes.discord import FakeDiscord
from tests.fakes.local_server import wait_until
from tests.fakes.paper_sources import FakePaperSources, hf_item
from tests.fakes.slack import FakeSlack

PAPER = "2605.00001"


@contextlib.asynccontextmanager
async def running(settings: Settings, platforms: list[Configured]) -> AsyncIterator[None]:
    """paperboy as ``paperboy run`` starts it, until the block ends (a clean stop)."""
    stop = asyncio.Event()
    task = asyncio.create_task(run(settings, platforms=platforms, stop=stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)


def ledger(settings: Settings, platform: str) -> set[tuple[str, str]]:
    """The (user, emoji) reactions recorded for ``platform``, read from the file."""
    store = Store(open_db(settings.db_path))
    try:
        rows = store.db.execute(
            "SELECT user_id, emoji FROM reactions WHERE platform = ?", [platform]
        ).fetchall()
        return {(r[0], r[1]) for r in rows}
    finally:
        store.db.close()


def net(settings: Settings, platform: str, workspace: str) -> int:
    store = Store(open_db(settings.db_path))
    try:
        return store.net_votes(platform, workspace, PAPER)
    finally:
        store.db.close()


async def test_reactions_changed_while_down_are_exactly_counted_after_restart(tmp_path) -> None:
    async with FakePaperSources() as sources, FakeSlack() as slack, FakeDiscord() as discord:
        sources.set_default_daily([hf_item(PAPER, "Votes while away", upvotes=42)])
        settings = sources.settings(Settings(db_path=str(tmp_path / "p.db"), poll_interval=3600))
        platforms = [slack.platform(), discord.platform()]
        db = Store(open_db(settings.db_path))
        db.add_subscription(
            Subscription(platform="slack", workspace=slack.team_id, channel="C1", feed=Feed("hf"))
        )
        db.add_subscription(
            Subscription(
                platform="discord",
                workspace=discord.GUILD_ID,
                channel=discord.CHANNEL_ID,
                feed=Feed("hf"),
            )
        )
        db.db.close()

        def discord_cards() -> list[dict]:
            return [m for m in discord.messages(discord.CHANNEL_ID) if m["embeds"]]

        async with running(settings, platforms):
            await wait_until(lambda: slack.posts("C1") and discord_cards(), timeout=15)
            ts, message_id = slack.posts("C1")[0]["ts"], discord_cards()[0]["id"]
            for user, emoji in (("UALICE", "+1"), ("UBOB", "-1"), ("UCAROL", "fire")):
                await slack.deliver(slack.react(ts, user=user, emoji=emoji))
            for user in ("700000000000000002", "700000000000000003"):
                await discord.inject_reaction(message_id, "👍", user_id=user)
            await wait_until(
                lambda: (
                    len(ledger(settings, "slack")) == 3 and len(ledger(settings, "discord")) == 2
                )
            )

        # paperboy is down: votes taken back, new ones, noise, and the bot's own reaction.
        slack.react(ts, user="UBOB", emoji="-1", added=False)
        slack.react(ts, user="UDAN", emoji="thumbsdown")
        slack.react(ts, user="UERIN", emoji="+1::skin-tone-2")
        slack.react(ts, user="UFAY", emoji="tada")
        slack.react(ts, user=slack.bot_user_id, emoji="+1")
        discord.react(message_id, "👍", user_id="700000000000000002", added=False)
        discord.react(message_id, "👎", user_id="700000000000000004")
        discord.react(message_id, "🔥", user_id="700000000000000005")
        discord.react(message_id, "👍", user_id="700000000000000006", bot=True)
        discord.react(message_id, "👍", user_id=discord.bot_user_id)

        expected_slack = {
            ("UALICE", "+1"),
            ("UCAROL", "fire"),
            ("UDAN", "thumbsdown"),
            ("UERIN", "+1::skin-tone-2"),
        }
        expected_discord = {
            ("700000000000000003", "👍"),
            ("700000000000000004", "👎"),
            ("700000000000000005", "🔥"),
        }
        async with running(settings, platforms):
            await wait_until(
                lambda: (
                    ledger(settings, "slack") == expected_slack
                    and ledger(settings, "discord") == expected_discord
                ),
                timeout=15,
            )
            assert net(settings, "slack", slack.team_id) == 3 - 1
            assert net(settings, "discord", discord.GUILD_ID) == 2 - 1
            [read] = slack.calls_to("reactions.get")
            assert read.args["full"] in ("1", "true", True) and read.args["timestamp"] == ts
        assert len(slack.posts("C1")) == 1 and len(discord_cards()) == 1  # nothing re-posted
        assert slack.unhandled == [] and discord.unhandled == []


async def test_slack_cut_short_user_lists_keep_the_ledgers_entries(tmp_path) -> None:
    async with FakeSlack() as slack:
        settings = slack.settings()
        adapter = SlackAdapter(_NoEvents(), settings, reaction_read_interval=0)
        ts = slack.seed_message("C1", user=slack.bot_user_id)
        for n in range(60):
            slack.react(ts, user=f"U{n:03d}", emoji="+1")
        slack.react(ts, user="UZED", emoji="-1")
        slack.cut_reaction_users(50)
        shown = await adapter.reactions(MessageRef(ChannelRef("slack", slack.team_id, "C1"), ts))
        assert shown is not None
        assert shown.partial == {"+1"}
        assert len(shown.present) == 51 and ("UZED", "-1") in shown.present
        gone = await adapter.reactions(MessageRef(ChannelRef("slack", slack.team_id, "C1"), "1.2"))
        assert gone is None


async def test_a_discord_session_that_cannot_resume_rereads_reactions(
    settings: Settings,
) -> None:
    async with FakeDiscord() as fake:
        bot = make_bot(settings, time.time)  # type: ignore[arg-type]
        adapter = DiscordAdapter(bot, fake.settings(), guild_ready_timeout=0.05)
        bot.attach(adapter)
        try:
            await adapter.start()
            await bot.start()
            card = fake.seed_message(fake.CHANNEL_ID, embeds=[{"url": "https://x.org/a"}])
            post = bot.store.claim_post("discord", fake.GUILD_ID, fake.CHANNEL_ID, PAPER)
            assert post is not None
            bot.store.complete_post(post, card["id"])

            # Reactions while the connection is down; a RESUME would replay their events.
            await fake.drop_connection(resumable=True)
            await fake.inject_reaction(card["id"], "👍", user_id="700000000000000002")
            await wait_until(lambda: bot.store.net_votes("discord", fake.GUILD_ID, PAPER) == 1)
            assert len(fake.identifies) == 1

            # A session that cannot resume: events sent meanwhile are never replayed.
            await fake.drop_connection(resumable=False)
            await fake.inject_reaction(card["id"], "👍", user_id="700000000000000003")
            await wait_until(lambda: len(fake.identifies) == 2 and fake.ready.is_set(), timeout=15)
            await wait_until(lambda: bot.store.net_votes("discord", fake.GUILD_ID, PAPER) == 2)
            assert bot.reconciler.reports["discord"].added == 1
        finally:
            await adapter.stop()
            await close_bot(bot)


class _NoEvents:
    async def handle(self, event) -> None:  # pragma: no cover - no events are delivered
        raise AssertionError(event)

    def first_delivery(self, platform: str, key: str) -> bool:  # pragma: no cover
        return True
