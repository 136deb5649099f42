"""Digests through the real slack-bolt and discord.py clients against the local fakes: set up
by slash command, sent by the poster at their time, within each platform's limits."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import discord
import pytest

from adapters.console import ConsoleAdapter
from adapters.discord.client import DiscordAdapter
from adapters.discord.render import EMBED_TOTAL_LIMIT, embed_problems
from bot.core import Bot
from tests.conftest import FakeClock
from tests.fakes.discord import MANAGE_CHANNELS, VIEW_AND_SEND, FakeDiscord
from tests.fakes.local_server import wait_until
from tests.fakes.paper_sources import FakePaperSources, hf_item
from tests.fakes.slack import block_problems
from tests.test_slack_roundtrip import SlackRun, answer_text, running

# Long, emoji-heavy, markup-laden titles: the worst a digest of 25 has to fit.
TITLE = "🧪 *Bold* <!channel> _Scaling_ [links](x) " + "long words " * 30


def serve_many(paper_sources: FakePaperSources, day: str, count: int = 30) -> list[str]:
    ids = [f"2605.{n:05d}" for n in range(1, count + 1)]
    items = [
        hf_item(pid, f"{TITLE} {pid}", upvotes=1000 - n, day=day, authors=["A. Author"] * 40)
        for n, pid in enumerate(ids)
    ]
    paper_sources.set_daily(day, items)
    paper_sources.set_default_daily([])
    return ids


def at(clock: FakeClock, *when: int) -> None:
    clock.now = datetime(*when, tzinfo=UTC).timestamp()


@pytest.fixture(params=["socket", "http"])
async def run(request, bot: Bot) -> AsyncIterator[SlackRun]:
    async with running(bot, request.param) as slack_run:
        yield slack_run


async def test_slack_gets_one_digest_of_25_within_block_kit_limits(
    run: SlackRun, clock: FakeClock, paper_sources: FakePaperSources
) -> None:
    ids = serve_many(paper_sources, "2026-05-14")
    run.slack.add_user("UADMIN", is_admin=True)
    _, answer = await run.command(
        "subscribe hf digest=daily@09:00 top=25 tz=Europe/Berlin", user="UADMIN", channel="C1"
    )
    assert answer["response_type"] == "in_channel"
    assert "Europe/Berlin" in answer_text(answer)
    _, refusal = await run.command("subscribe hf digest=daily@09:00 top=26", user="UADMIN")
    assert "between 1 and 25" in answer_text(refusal)

    at(clock, 2026, 5, 14, 7, 0)  # 09:00 in Berlin
    await run.bot.poster.run_once()
    await run.bot.poster.run_once()
    [digest] = run.slack.posts("C1")
    assert block_problems(digest["blocks"]) == []
    text = answer_text(digest)
    assert "Hugging Face Daily Papers: top 25" in text
    assert all(pid in text for pid in ids[:25]) and ids[25] not in text
    assert "<!channel>" not in text  # escaped, no ping
    # 👍 / 👎 under each of the first 24 (Slack's 50 blocks), each action id once.
    buttons = [
        element
        for block in digest["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]
    assert [b["value"] for b in buttons[::2]] == ids[:24]
    assert len({b["action_id"] for b in buttons}) == len(buttons) == 48
    # A press is a vote in the ledger, like a reaction on a card.
    payload = run.slack.link_click_payload(buttons[4], ts=digest["ts"], user="UBOB")
    assert (await run.slack.deliver(payload, to=run.url)).status == 200
    await run.slack.wait_response(payload["response_url"])
    assert run.bot.store.net_votes("slack", run.slack.team_id, ids[2]) == 1


async def test_discord_gets_one_digest_of_25_within_embed_limits(
    adapter: DiscordAdapter,
    core: Bot,
    fake: FakeDiscord,
    clock: FakeClock,
    paper_sources: FakePaperSources,
) -> None:
    ids = serve_many(paper_sources, "2026-05-18")
    options = {"source": "hf", "digest": "weekly@mon-08:00", "top": 25, "tz": "UTC"}
    interaction = await fake.inject_interaction(
        "subscribe", options, permissions=MANAGE_CHANNELS | VIEW_AND_SEND
    )
    [answer] = await wait_until(lambda: interaction.replies)
    assert "Monday 18 May 2026, 08:00 (UTC)" in answer["content"]

    at(clock, 2026, 5, 18, 8, 0)
    await core.poster.run_once()
    await core.poster.run_once()
    announcement, digest = fake.messages(FakeDiscord.CHANNEL_ID)  # the subscription, then it
    assert announcement["content"] == answer["content"]
    embeds = digest["embeds"]
    assert embeds[0]["title"].startswith("Hugging Face Daily Papers: top 25 · the week to Monday")
    total = 0
    for data in embeds:
        assert embed_problems(discord.Embed.from_dict(data)) == []
        total += len(data.get("title", "")) + len(data["description"])
    assert total <= EMBED_TOTAL_LIMIT
    text = "\n".join(e["description"] for e in embeds)
    assert all(f"`{pid}`" in text for pid in ids[:25])
    # 👍 / 👎 for the first 12 (Discord's 25 components a message).
    custom_ids = [c["custom_id"] for row in digest.get("components", []) for c in row["components"]]
    assert custom_ids[:2] == [f"paperboy_vote:up:{ids[0]}", f"paperboy_vote:down:{ids[0]}"]
    assert len(custom_ids) == 24


async def test_discord_team_top_takes_its_schedule_with_a_space(
    adapter: DiscordAdapter,
    core: Bot,
    fake: FakeDiscord,
) -> None:
    options = {"source": "team-top", "category": "weekly@fri 16:00"}
    interaction = await fake.inject_interaction(
        "subscribe", options, permissions=MANAGE_CHANNELS | VIEW_AND_SEND
    )
    [answer] = await wait_until(lambda: interaction.replies)
    assert "team top weekly@fri-16:00" in answer["content"]
    [sub] = core.store.subscriptions()
    assert sub.is_team_top and str(sub.digest) == "weekly@fri-16:00"


async def test_the_console_prints_the_digest(
    bot: Bot, clock: FakeClock, paper_sources: FakePaperSources
) -> None:
    serve_many(paper_sources, "2026-05-14", count=3)
    out = io.StringIO()
    console = ConsoleAdapter(bot, io.StringIO(), out)
    await bot.start()  # the console waits for the round a new subscription asks for
    await console.handle_line("/papers subscribe hf digest=daily@09:00 top=2")
    at(clock, 2026, 5, 14, 9, 0)
    await bot.poster.run_once()
    printed = out.getvalue()
    assert "\nHugging Face Daily Papers: top 2 · Thursday 14 May 2026\n" in printed
    assert "1. 🧪 *Bold*" in printed and "(2605.00001)" in printed
    assert "2605.00002" in printed and "2605.00003" not in printed
