"""bioRxiv and medRxiv through the whole bot: subscriptions, auto-posts, show, search, cite,
votes and Share in the core; cards on Slack, Discord and the console; settling a Discord card.

Nothing here is specific to arXiv: a paper keyed by a DOI must go everywhere one keyed by an
arXiv id goes.
"""

from __future__ import annotations

import pytest

from adapters.discord.client import DiscordAdapter
from adapters.discord.render import card_embed, card_paper_id
from adapters.memory import MemoryAdapter
from bot.core import Bot
from bot.events import ChannelRef
from bot.replies import Citation, Error, PaperCard, PaperList, Text
from tests.fakes.discord import FakeDiscord
from tests.fakes.paper_sources import FakePaperSources
from tests.test_render_agreement import every_platform

SEPTINS = "10.1101/2026.05.13.593240"  # bioRxiv cell biology, in the recorded window
LOOKED_UP = "10.1101/2024.01.01.123456"  # bioRxiv, known only by DOI (two versions)
HEAT = "10.1101/2026.05.11.26301355"  # medRxiv epidemiology


async def test_subscriptions_post_each_servers_new_papers(chat: MemoryAdapter, bot: Bot) -> None:
    reply = await chat.command("subscribe bioRxiv Cell-Biology", admin=True, channel="C1")
    assert isinstance(reply, Text) and "bioRxiv cell biology" in reply.text
    await chat.command("subscribe medrxiv epidemiology keywords=kidney", admin=True, channel="C2")
    report = await bot.poster.run_once()
    assert report.failed_feeds == {}
    assert sorted(chat.card_ids("C1")) == ["10.1101/2026.05.11.593001", SEPTINS]
    assert chat.card_ids("C2") == [HEAT]
    (medical,) = chat.cards("C2")
    assert medical.reply.paper.abstract_url == f"https://www.medrxiv.org/content/{HEAT}v1"
    listed = await chat.command("subscriptions", channel="C2")
    assert listed.described()[0][1] == "medRxiv epidemiology keywords=kidney"


async def test_an_unknown_category_is_refused_with_the_valid_ones(chat: MemoryAdapter) -> None:
    reply = await chat.command("subscribe biorxiv cell-biologie", admin=True)
    assert isinstance(reply, Error)
    assert "not a bioRxiv category" in reply.message and "`cell_biology`" in reply.message
    assert "`neuroscience`" in reply.hint  # the whole list
    assert chat.bot.store.subscriptions(platform="memory") == []
    upvotes = await chat.command("subscribe biorxiv genomics min_upvotes=3", admin=True)
    assert isinstance(upvotes, Error) and "bioRxiv has no upvotes" in upvotes.message


@pytest.mark.parametrize(
    "given",
    [
        LOOKED_UP,
        f"doi:{LOOKED_UP}",
        f"https://doi.org/{LOOKED_UP}",
        f"https://www.biorxiv.org/content/{LOOKED_UP}v2",
        f"https://www.biorxiv.org/content/{LOOKED_UP}v1.full",
        f"https://www.biorxiv.org/content/{LOOKED_UP}v2.full.pdf",
    ],
)
async def test_show_by_doi_or_link(
    chat: MemoryAdapter, paper_sources: FakePaperSources, given: str
) -> None:
    card = await chat.command(f"show {given}")
    assert isinstance(card, PaperCard) and card.paper.id == LOOKED_UP
    assert card.paper.abstract_url == f"https://www.biorxiv.org/content/{LOOKED_UP}v2"
    again = await chat.command(f"show {LOOKED_UP.upper()}")  # DOIs ignore case
    assert isinstance(again, PaperCard) and again.paper == card.paper
    assert paper_sources.count("rxiv_doi") == 1  # the second time from the store


async def test_show_an_unknown_doi_says_where_it_looked(chat: MemoryAdapter) -> None:
    reply = await chat.command("show 10.1101/2026.01.01.000000")
    assert isinstance(reply, Error)
    assert reply.message == (
        "I couldn't find 10.1101/2026.01.01.000000 locally, on bioRxiv or on medRxiv."
    )


async def test_search_finds_posted_and_looked_up_preprints(chat: MemoryAdapter, bot: Bot) -> None:
    await chat.command("subscribe biorxiv all", admin=True)
    await bot.poster.run_once()
    found = await chat.command("search septin ciliary")
    assert isinstance(found, PaperList) and [s.paper.id for s in found.papers] == [SEPTINS]
    await chat.command(f"show {LOOKED_UP}")
    found = await chat.command("search ribosome stalling author:lindqvist")
    assert isinstance(found, PaperList) and [s.paper.id for s in found.papers] == [LOOKED_UP]
    named = await chat.command(f"search https://www.biorxiv.org/content/{SEPTINS}v1.full")
    assert isinstance(named, PaperCard) and named.paper.id == SEPTINS


async def test_cite_a_preprint_as_an_article_with_its_doi(chat: MemoryAdapter) -> None:
    cited = await chat.command(f"cite https://www.biorxiv.org/content/{LOOKED_UP}v2")
    assert isinstance(cited, Citation)
    assert cited.text.startswith("@article{lindqvist2024ribosome,")
    assert "journal={bioRxiv}" in cited.text and f"doi={{{LOOKED_UP}}}" in cited.text
    assert "Lindqvist, E. and Park, J. and Osei, A." in cited.text
    apa = await chat.command(f"cite {LOOKED_UP} apa")
    assert apa.text == (
        "Lindqvist, E., Park, J., & Osei, A. (2024). Ribosome stalling shapes the proteome "
        f"of ageing neurons. bioRxiv. https://doi.org/{LOOKED_UP}"
    )


async def test_votes_on_a_preprint_card_count(chat: MemoryAdapter, bot: Bot) -> None:
    await chat.command("subscribe medrxiv epidemiology", admin=True)
    await bot.poster.run_once()
    card = next(c for c in chat.cards("C1") if c.reply.paper.id == HEAT)
    await chat.react(card.ref, "+1", user="U2")
    await chat.react(card.ref, "fire", user="U3")
    await chat.react(card.ref, "-1", user="U4")
    assert bot.store.net_votes("memory", chat.workspace, HEAT) == 1
    shown = await chat.command(f"show {HEAT}")
    assert shown.votes == 1


async def test_share_a_preprint_into_a_channel(chat: MemoryAdapter) -> None:
    await chat.command(f"show {LOOKED_UP}")
    await chat.share(LOOKED_UP, channel="C9")
    assert chat.card_ids("C9") == [LOOKED_UP]


# -- cards on every platform ----------------------------------------------------------------


async def test_cards_link_to_the_right_server_everywhere(chat: MemoryAdapter) -> None:
    bio = (await chat.command(f"show {LOOKED_UP}")).paper
    med = (await chat.command(f"show {HEAT}")).paper
    for paper, host in ((bio, "www.biorxiv.org"), (med, "www.medrxiv.org")):
        page = f"https://{host}/content/{paper.id}v{'2' if paper is bio else '1'}"
        for name, card in every_platform(paper).items():
            assert card.links == [("Abstract", page), ("PDF", f"{page}.full.pdf")], name
            assert "arxiv.org" not in card.everything, name
            assert "huggingface.co" not in card.everything, name


async def test_a_discord_card_names_its_doi_in_the_footer(chat: MemoryAdapter) -> None:
    paper = (await chat.command(f"show {LOOKED_UP}")).paper
    embed = card_embed(PaperCard(paper))
    assert embed.footer.text == f"DOI {LOOKED_UP} · neuroscience"
    assert embed.url == f"https://www.biorxiv.org/content/{LOOKED_UP}v2"
    assert card_paper_id(embed) == LOOKED_UP


async def test_discord_settles_a_preprint_card_a_crash_left_unconfirmed(
    adapter: DiscordAdapter, fake: FakeDiscord, core: Bot
) -> None:
    here = ChannelRef("discord", FakeDiscord.GUILD_ID, FakeDiscord.CHANNEL_ID)
    paper = await core.sources.lookup(LOOKED_UP)
    core.store.save_papers([paper])
    other = await core.sources.lookup("10.1101/2026.05.11.593001")
    await adapter.send(here, PaperCard(other))  # another preprint's card, not this one
    post_id = core.store.claim_post("discord", here.workspace, here.channel, LOOKED_UP)
    sent = await adapter.send(here, PaperCard(paper))  # then a "crash" before it is recorded
    await core.poster.settle_pending()
    assert core.store.pending_posts() == []
    post = core.store.post_for_message("discord", here.workspace, here.channel, sent.message)
    assert post is not None and post.id == post_id
