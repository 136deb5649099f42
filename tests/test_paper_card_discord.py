"""The "Paper card" message command and vote buttons through real discord.py and the real
core against the fake Discord: synced beside /papers, one card per linked paper in the
channel, a button vote and a reaction are one vote, a message with one link takes votes."""

from __future__ import annotations

import discord
import pytest

from adapters.discord.client import DiscordAdapter
from adapters.discord.render import embed_problems
from bot.core import Bot
from tests.fakes.discord import EPHEMERAL, FakeDiscord, message_problems
from tests.fakes.local_server import wait_until
from tests.fakes.paper_sources import hf_item

GUILD = FakeDiscord.GUILD_ID
CHANNEL = FakeDiscord.CHANNEL_ID
IDS = ("2605.00001", "2605.00002", "2605.00003", "2605.00004", "2605.00005", "2605.00006")
ADA = "710000000000000001"
BOB = "710000000000000002"


@pytest.fixture(autouse=True)
def papers(paper_sources) -> None:
    paper_sources.set_daily(
        "2026-05-13", [hf_item(pid, f"Paper {pid}", summary="An abstract. " * 80) for pid in IDS]
    )
    paper_sources.set_default_daily([])


def buttons(message: dict) -> list[str]:
    return [c["custom_id"] for row in message["components"] for c in row["components"]]


async def paper_card(fake: FakeDiscord, content: str, author: str = FakeDiscord.USER_ID):
    """Someone wrote ``content``; another member runs "Paper card" on it."""
    message = fake.seed_message(CHANNEL, author_id=author, content=content)
    interaction = await fake.inject_message_command(message, user_id=BOB)
    await wait_until(lambda: interaction.replies, timeout=5)
    return message, interaction


async def test_paper_card_is_synced_beside_papers(adapter: DiscordAdapter, fake) -> None:
    names = {(c["name"], c.get("type", 1)) for c in fake.commands["global"]}
    assert names == {("papers", 1), ("Paper card", 3)}
    [menu] = fake.message_commands()
    assert menu["contexts"] == [0] and menu["integration_types"] == [0]


async def test_two_links_give_two_cards_in_the_channel(adapter, fake, core: Bot) -> None:
    _, interaction = await paper_card(
        fake,
        "look: <https://arxiv.org/abs/2605.00001> and https://huggingface.co/papers/2605.00002!",
    )
    await wait_until(lambda: len(interaction.replies) == 2, timeout=5)
    for reply, pid in zip(interaction.replies, IDS, strict=False):
        assert not reply["flags"] & EPHEMERAL
        [embed] = reply["embeds"]
        assert embed["title"] == f"Paper {pid}"
        assert buttons(reply) == [f"paperboy_vote:up:{pid}", f"paperboy_vote:down:{pid}"]
        assert message_problems(reply) == {}
    assert len(fake.messages(CHANNEL)) == 3  # the person's message and the two cards


async def test_no_paper_links_is_answered_privately(adapter, fake) -> None:
    _, interaction = await paper_card(fake, "nothing here https://example.com/2605.00001")
    [reply] = interaction.replies
    assert reply["flags"] & EPHEMERAL
    assert reply["content"].startswith("⚠️ No paper links in that message")


async def test_six_links_give_five_cards_and_say_what_was_left_out(adapter, fake) -> None:
    text = " ".join(f"https://arxiv.org/abs/{pid}" for pid in ("2401.99999", *IDS))
    _, interaction = await paper_card(fake, text)
    await wait_until(lambda: len(interaction.replies) == 4, timeout=5)
    last = interaction.replies[-1]
    assert last["content"] == "2 more paper links in that message not shown; not found: 2401.99999."
    for reply in interaction.replies:
        assert all(embed_problems_of(e) == [] for e in reply["embeds"])


def embed_problems_of(data: dict) -> list[str]:
    return embed_problems(discord.Embed.from_dict(data))


async def test_a_button_vote_and_a_reaction_are_one_vote(adapter, fake, core: Bot) -> None:
    message, interaction = await paper_card(fake, "https://arxiv.org/abs/2605.00001")
    [card] = interaction.replies
    press = await fake.inject_click(card, "paperboy_vote:up:2605.00001", user_id=ADA)
    [said] = await wait_until(lambda: press.replies, timeout=5)
    assert said["flags"] & EPHEMERAL and "your vote is +1" in said["content"]
    await fake.inject_reaction(message["id"], "👍", user_id=ADA)
    await wait_until(lambda: core.store.tally("discord", GUILD, "2605.00001").ups == 1)
    assert core.store.tally("discord", GUILD, "2605.00001").score == 1

    # Pressing again takes the button's vote back; the reaction alone still counts.
    again = await fake.inject_click(card, "paperboy_vote:up:2605.00001", user_id=ADA)
    [said] = await wait_until(lambda: again.replies, timeout=5)
    assert "took back" in said["content"]
    await fake.inject_reaction(message["id"], "👍", user_id=ADA, added=False)
    await wait_until(lambda: core.store.tally("discord", GUILD, "2605.00001").ups == 0)


async def test_reactions_count_on_a_message_with_one_link_not_two(adapter, fake, core) -> None:
    one, _ = await paper_card(fake, "https://arxiv.org/abs/2605.00003")
    two, answered = await paper_card(
        fake, "https://arxiv.org/abs/2605.00004 vs https://arxiv.org/abs/2605.00005"
    )
    await wait_until(lambda: len(answered.replies) == 2, timeout=5)
    await fake.inject_reaction(two["id"], "👍", user_id=ADA)
    await fake.inject_reaction(one["id"], "👍", user_id=ADA)
    await wait_until(lambda: core.store.leaderboard("discord", GUILD, None), timeout=5)
    [voted] = core.store.leaderboard("discord", GUILD, None)
    assert (voted.paper_id, voted.score) == ("2605.00003", 1)


async def test_a_bots_message_is_never_votable(adapter, fake, core) -> None:
    message, _ = await paper_card(fake, "https://arxiv.org/abs/2605.00001", author=fake.bot_user_id)
    assert core.store.votable_message("discord", GUILD, CHANNEL, message["id"]) is None


async def test_a_biorxiv_link_gets_a_card_with_doi_buttons(adapter, fake, core) -> None:
    _, interaction = await paper_card(
        fake, "preprint: https://www.biorxiv.org/content/10.1101/2024.01.01.123456v1"
    )
    [reply] = interaction.replies
    assert buttons(reply) == [
        "paperboy_vote:up:10.1101/2024.01.01.123456",
        "paperboy_vote:down:10.1101/2024.01.01.123456",
    ]
    press = await fake.inject_click(reply, buttons(reply)[1], user_id=ADA)
    [said] = await wait_until(lambda: press.replies, timeout=5)
    assert "your vote is -1" in said["content"]
