"""Settling reads the channel's history since the claim, however much traffic came after the
card: a card a crash left unconfirmed is found, never posted twice (Slack and Discord)."""

from __future__ import annotations

import time

from adapters.discord.client import DiscordAdapter
from adapters.slack.app import SlackAdapter
from bot.config import Settings
from bot.core import Bot
from bot.events import ChannelRef
from bot.model.paper import Paper
from bot.replies import PaperCard
from tests.conftest import close_bot, make_bot
from tests.fakes.discord import FakeDiscord
from tests.fakes.slack import FakeSlack

PAPER = Paper("2605.00001", "Behind the chatter", published="2026-05-13")
LATER_MESSAGES = 5000


def real_time_bot(settings: Settings) -> Bot:
    return make_bot(settings, time.time)  # type: ignore[arg-type]  # claims at real times


async def crash_after_sending(bot: Bot, outbox, channel: ChannelRef) -> int:
    """Claim and send a card, then "crash" before the message id is recorded."""
    bot.store.save_papers([PAPER])
    post_id = bot.store.claim_post(channel.platform, channel.workspace, channel.channel, PAPER.id)
    assert post_id is not None
    await outbox.send(channel, PaperCard(PAPER, public=True))
    return post_id


async def settled_message(bot: Bot) -> str | None:
    await bot.poster.settle_pending()
    assert bot.store.pending_posts() == []
    rows = bot.store.db.execute("SELECT message_id FROM posts WHERE paper_id = ?", [PAPER.id])
    found = rows.fetchall()
    return found[0][0] if found else None


async def test_slack_finds_a_pending_card_behind_5000_later_messages(settings) -> None:
    async with FakeSlack() as slack:
        bot = real_time_bot(settings)
        adapter = SlackAdapter(bot, slack.settings(), post_interval=0)
        bot.attach(adapter)
        try:
            channel = ChannelRef("slack", slack.team_id, "C1")
            await crash_after_sending(bot, adapter, channel)
            for i in range(LATER_MESSAGES):
                slack.seed_message("C1", f"chatter {i}")
            assert await settled_message(bot) == slack.posts("C1")[0]["ts"]
            await bot.poster.run_once()  # a round after settling posts nothing again
            assert len(slack.posts("C1")) == 1
            assert len(slack.calls_to("chat.postMessage")) == 1
        finally:
            await close_bot(bot)


async def test_discord_finds_a_pending_card_behind_5000_later_messages(settings) -> None:
    async with FakeDiscord() as fake:
        bot = real_time_bot(settings)
        adapter = DiscordAdapter(bot, fake.settings(), guild_ready_timeout=0.05)
        bot.attach(adapter)
        try:
            await adapter.start()
            channel = ChannelRef("discord", fake.GUILD_ID, fake.CHANNEL_ID)
            await crash_after_sending(bot, adapter, channel)
            for i in range(LATER_MESSAGES):
                fake.seed_message(fake.CHANNEL_ID, author_id=fake.USER_ID, content=f"chat {i}")
            card = next(m for m in fake.messages(fake.CHANNEL_ID) if m["embeds"])
            assert await settled_message(bot) == card["id"]
            await bot.poster.run_once()
            assert len([m for m in fake.messages(fake.CHANNEL_ID) if m["embeds"]]) == 1
            assert fake.count("POST /channels/*/messages") == 1
            # Oldest first from the claim: the card is on the first page read.
            assert fake.count("GET /channels/*/messages") == 1
        finally:
            await adapter.stop()
            await close_bot(bot)
