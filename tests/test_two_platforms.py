"""One process, Slack and Discord together: one database, one vote ledger per workspace."""

from __future__ import annotations

import asyncio
import gc

from adapters.launch import run
from bot.config import Settings
from storage.db import open_db
from storage.store import Store
from tests.fakes.discord import MANAGE_CHANNELS, FakeDiscord
from tests.fakes.local_server import wait_until
from tests.fakes.paper_sources import FakePaperSources, hf_item
from tests.fakes.slack import FakeSlack

PAPER = "2605.00001"


async def test_one_process_posts_to_slack_and_discord_and_counts_votes_from_both(
    tmp_path,
) -> None:
    async with FakePaperSources() as sources, FakeSlack() as slack, FakeDiscord() as discord:
        sources.set_default_daily([hf_item(PAPER, "Shared between platforms", upvotes=42)])
        settings = sources.settings(Settings(db_path=str(tmp_path / "p.db"), poll_interval=3600))
        stop = asyncio.Event()
        platforms = [slack.platform(), discord.platform()]
        bot_task = asyncio.create_task(run(settings, platforms=platforms, stop=stop))
        try:
            await wait_until(lambda: slack.connections and discord.identifies, timeout=15)
            # What start-up built is left out of garbage collections while the bot runs
            # (a full one took 30 ms of CPU in the middle of a search).
            await wait_until(lambda: gc.get_freeze_count() > 10_000, timeout=15)

            slack.add_user("UADMIN", is_admin=True)
            subscribe = slack.command_payload("subscribe hf", user="UADMIN", channel="C1")
            await slack.deliver(subscribe)
            await slack.wait_response(subscribe["response_url"])
            await discord.inject_interaction(
                "subscribe", {"source": "hf"}, permissions=MANAGE_CHANNELS
            )

            def slack_cards() -> list[dict]:
                return slack.posts("C1")

            def discord_cards() -> list[dict]:
                return [m for m in discord.messages(discord.CHANNEL_ID) if m["embeds"]]

            await wait_until(lambda: slack_cards() and discord_cards(), timeout=15)
            assert [c["metadata"]["event_payload"]["paper_id"] for c in slack_cards()] == [PAPER]
            assert [c["embeds"][0]["url"] for c in discord_cards()] == [
                f"https://arxiv.org/abs/{PAPER}"
            ]

            await slack.deliver(
                slack.reaction_payload(slack_cards()[0]["ts"], user="UALICE", emoji="+1")
            )
            await slack.deliver(
                slack.reaction_payload(slack_cards()[0]["ts"], user="UBOB", emoji="fire")
            )
            await discord.inject_reaction(discord_cards()[0]["id"], "👎")

            ledger = Store(open_db(settings.db_path))  # a second reader of the same file

            def votes() -> dict[str, int]:
                return {
                    "slack": ledger.net_votes("slack", slack.team_id, PAPER),
                    "discord": ledger.net_votes("discord", discord.GUILD_ID, PAPER),
                }

            await wait_until(lambda: votes() == {"slack": 2, "discord": -1}, timeout=10)
            assert len(ledger.subscriptions()) == 2
            ledger.db.close()
        finally:
            stop.set()
            await asyncio.wait_for(bot_task, 15)  # a clean shutdown, nothing left hanging
    assert gc.get_freeze_count() == 0  # collected as usual after the run
