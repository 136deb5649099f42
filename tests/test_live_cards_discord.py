"""Live cards and Share through real discord.py and the real core against the fake Discord."""

from __future__ import annotations

import asyncio
import time

import pytest

from adapters.discord.client import DiscordAdapter
from bot.config import Settings
from bot.core import Bot
from bot.model.feed import Feed
from bot.model.subscription import Subscription
from tests.conftest import close_bot, make_bot
from tests.fakes.discord import EPHEMERAL, FakeDiscord
from tests.fakes.local_server import wait_until
from tests.fakes.paper_sources import FakePaperSources, hf_item

GUILD = FakeDiscord.GUILD_ID
CHANNEL = FakeDiscord.CHANNEL_ID
PAPER = "2605.00001"


@pytest.fixture
def settings(paper_sources: FakePaperSources, tmp_path) -> Settings:
    # Edits at most every 1.5 s: a 2-second storm gets at most three.
    return paper_sources.settings(
        Settings(db_path=str(tmp_path / "paperboy.db"), poll_interval=3600, card_edit_interval=1.5)
    )


def serve_today(paper_sources: FakePaperSources, *specs: tuple[str, int]) -> None:
    items = [hf_item(pid, f"Paper about agents {pid}", upvotes=up) for pid, up in specs]
    paper_sources.set_daily("2026-05-13", items)
    paper_sources.set_default_daily([])


def team_votes(message: dict) -> str:
    [embed] = message["embeds"]
    return next(f["value"] for f in embed["fields"] if f["name"] == "Team votes")


async def post_card(core: Bot, fake: FakeDiscord, paper_sources) -> dict:
    serve_today(paper_sources, (PAPER, 7))
    core.store.add_subscription(
        Subscription(platform="discord", workspace=GUILD, channel=CHANNEL, feed=Feed("hf"))
    )
    await core.poster.run_once()
    [card] = fake.messages(CHANNEL)
    return card


async def test_a_storm_of_200_reactions_costs_at_most_three_edits(
    adapter: DiscordAdapter, fake: FakeDiscord, core: Bot, paper_sources
) -> None:
    card = await post_card(core, fake, paper_sources)
    assert team_votes(card) == "+0 (0 up, 0 down)"
    started = time.monotonic()
    for batch in range(10):  # 20 reactions every 0.2 s: about 2 s in all
        for i in range(20):
            n = batch * 20 + i
            emoji = "👎" if n % 4 == 0 else "👍"
            await fake.inject_reaction(card["id"], emoji, user_id=f"71{n:016d}")
        await asyncio.sleep(0.2)
    storm = time.monotonic() - started  # longer than 2 s on a loaded machine
    await wait_until(lambda: team_votes(fake.messages(CHANNEL)[0]) == "+100 (150 up, 50 down)", 10)
    await core.cards.wait_idle(timeout=5)
    # One edit at once, then at most one per 1.5 s interval: three for a 2-second storm.
    assert 1 <= len(fake.edits) <= 2 + int(storm // 1.5)
    assert {message for _, message in fake.edits} == {card["id"]}


async def test_share_posts_once_then_links_to_the_card(
    adapter: DiscordAdapter, fake: FakeDiscord, core: Bot, paper_sources
) -> None:
    serve_today(paper_sources, ("2605.00009", 31), ("2605.00010", 4))
    interaction = await fake.inject_interaction("today")
    [answer] = await wait_until(lambda: interaction.replies)
    assert answer["flags"] & EPHEMERAL
    buttons = [c for row in answer["components"] for c in row["components"]]
    assert [b["custom_id"] for b in buttons] == [
        "paperboy_share:2605.00009",
        "paperboy_share:2605.00010",
    ]
    assert [b["label"] for b in buttons] == ["Share 1", "Share 2"]

    click = await fake.inject_click(answer, buttons[0]["custom_id"])
    [reply] = await wait_until(lambda: click.replies)
    assert reply["flags"] & EPHEMERAL and "Shared" in reply["content"]
    [card] = fake.messages(CHANNEL)
    assert card["embeds"][0]["url"] == "https://arxiv.org/abs/2605.00009"
    member = fake.user(fake.USER_ID)["global_name"]
    assert card["embeds"][0]["author"]["name"] == f"shared by {member}"
    assert card["allowed_mentions"]["parse"] == []  # a credit never notifies anyone
    assert team_votes(card) == "+0 (0 up, 0 down)"

    again = await fake.inject_click(answer, buttons[0]["custom_id"], user_id="700000000000000099")
    [link] = await wait_until(lambda: again.replies)
    assert f"https://discord.com/channels/{GUILD}/{CHANNEL}/{card['id']}" in link["content"]
    assert len(fake.messages(CHANNEL)) == 1

    # A shared card is a live one; the credit stays through edits.
    await fake.inject_reaction(card["id"], "👍", user_id="7100000000000000001")
    await wait_until(lambda: team_votes(fake.messages(CHANNEL)[0]) == "+1 (1 up, 0 down)")
    assert fake.messages(CHANNEL)[0]["embeds"][0]["author"]["name"] == f"shared by {member}"


async def test_share_where_paperboy_cannot_post_answers_privately(
    adapter: DiscordAdapter, fake: FakeDiscord, core: Bot, paper_sources
) -> None:
    serve_today(paper_sources, ("2605.00009", 31))
    fake.forbid(CHANNEL)
    interaction = await fake.inject_interaction("show", {"paper": "2605.00009"})
    [answer] = await wait_until(lambda: interaction.replies)
    [[button]] = [[c for c in row["components"]] for row in answer["components"]]
    click = await fake.inject_click(answer, button["custom_id"])
    [reply] = await wait_until(lambda: click.replies)
    assert reply["flags"] & EPHEMERAL
    assert "can't post in this channel" in reply["content"]
    assert core.store.post_in_channel("discord", GUILD, CHANNEL, "2605.00009") is None


async def test_public_answers_and_channel_cards_have_no_share_button(
    adapter: DiscordAdapter, fake: FakeDiscord, core: Bot, paper_sources
) -> None:
    card = await post_card(core, fake, paper_sources)
    assert card["components"] == []
    interaction = await fake.inject_interaction("today", {"public": True})
    [answer] = await wait_until(lambda: interaction.replies)
    assert not answer["flags"] & EPHEMERAL and answer["components"] == []


async def test_a_share_button_still_works_after_a_restart(
    fake: FakeDiscord, settings: Settings, clock, paper_sources
) -> None:
    serve_today(paper_sources, ("2605.00009", 31))

    async def started() -> tuple[Bot, DiscordAdapter]:
        core = make_bot(settings, clock)
        adapter = DiscordAdapter(core, fake.settings(), guild_ready_timeout=0.05)
        core.attach(adapter)
        await adapter.start()
        return core, adapter

    core, adapter = await started()
    interaction = await fake.inject_interaction("today")
    [answer] = await wait_until(lambda: interaction.replies)
    await adapter.stop()
    await close_bot(core)

    core, adapter = await started()  # a new process: nothing of the answer in memory
    try:
        button = answer["components"][0]["components"][0]
        click = await fake.inject_click(answer, button["custom_id"])
        [reply] = await wait_until(lambda: click.replies)
        assert "Shared" in reply["content"]
        assert len(fake.messages(CHANNEL)) == 1
    finally:
        await adapter.stop()
        await close_bot(core)


def serve_rich(paper_sources: FakePaperSources, stars: int) -> None:
    item = hf_item(
        PAPER,
        "A rich paper",
        upvotes=7,
        githubRepo="https://github.com/o/r",
        githubStars=stars,
        ai_summary="It works @everyone.",
        organization={"name": "acme", "fullname": "Acme Lab"},
    )
    item["numComments"] = 2
    paper_sources.set_daily("2026-05-13", [item])
    paper_sources.set_default_daily([])


async def test_a_rich_card_reaches_discord_and_follows_new_stars(
    adapter: DiscordAdapter, fake: FakeDiscord, core: Bot, paper_sources
) -> None:
    serve_rich(paper_sources, stars=26)
    core.store.add_subscription(
        Subscription(platform="discord", workspace=GUILD, channel=CHANNEL, feed=Feed("hf"))
    )
    await core.poster.run_once()
    [card] = fake.messages(CHANNEL)  # the fake refuses embeds Discord would refuse
    [embed] = card["embeds"]
    assert embed["description"].startswith("**TL;DR:** It works @\u200beveryone.")
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Organization"] == "Acme Lab" and fields["Comments"] == "💬 2"
    assert fields["Links"].endswith("[Code](https://github.com/o/r) ★ 26")
    assert embed["thumbnail"]["url"].endswith("/papers/2605.00001.png")

    serve_rich(paper_sources, stars=1200)  # the same upvotes: only the stars moved

    def links() -> str:
        [embed] = fake.messages(CHANNEL)[0]["embeds"]
        return next(f["value"] for f in embed["fields"] if f["name"] == "Links")

    await core.poster.run_once()
    await wait_until(lambda: links().endswith("★ 1.2k"), 5)
