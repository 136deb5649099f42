"""Cards for linked papers, vote buttons and votable messages, through the core (memory
adapter): links become cards, a button and a reaction are one vote, a message that links one
paper takes reactions as votes and one that links two does not."""

from __future__ import annotations

from dataclasses import replace

import pytest

from adapters.memory import MemoryAdapter
from bot.events import MessageRef
from bot.linked_papers import MAX_CARDS, links_in
from bot.replies import Error, LinkedPapers, Text
from tests.conftest import close_bot, make_bot
from tests.fakes.paper_sources import hf_item

IDS = ("2605.00001", "2605.00002", "2605.00003", "2605.00004", "2605.00005", "2605.00006")


@pytest.fixture
async def linked(settings, clock, paper_sources):
    paper_sources.set_daily("2026-05-13", [hf_item(pid, f"Paper {pid}") for pid in IDS])
    paper_sources.set_default_daily([])
    bot = make_bot(replace(settings, card_edit_interval=0.05), clock)
    chat = MemoryAdapter(bot)
    yield bot, chat
    await close_bot(bot)


def test_links_are_found_in_chat_markup() -> None:
    text = (
        "see <https://arxiv.org/abs/2605.00001>, [this](https://huggingface.co/papers/2605.00002)"
        " and https://www.alphaxiv.org/abs/2605.00003. Also <https://x.org/a|label>"
    )
    assert links_in(text) == (
        "https://arxiv.org/abs/2605.00001",
        "https://huggingface.co/papers/2605.00002",
        "https://www.alphaxiv.org/abs/2605.00003",
        "https://x.org/a",
    )
    assert links_in("no links, javascript:alert(1) or ftp://arxiv.org/abs/2605.00001") == ()


async def test_each_linked_paper_gets_a_votable_card_in_link_order(linked) -> None:
    _bot, chat = linked
    links = (
        "https://huggingface.co/papers/2605.00002",
        "https://example.com/not-a-paper",
        "https://arxiv.org/pdf/2605.00001v2",
        "https://www.alphaxiv.org/abs/2605.00003",
        "https://arxiv.org/abs/2605.00002v1",  # the same paper again: one card
    )
    reply = await chat.post_links(*links)
    assert isinstance(reply, LinkedPapers)
    assert [c.card.paper.id for c in reply.cards] == ["2605.00002", "2605.00001", "2605.00003"]
    assert [c.url for c in reply.cards] == [links[0], links[2], links[3]]
    assert all(c.card.votable and c.card.public for c in reply.cards)
    assert reply.note() == ""
    assert chat.sent == []  # nothing is posted on its own


async def test_too_many_links_and_unknown_ids_are_said(linked) -> None:
    _bot, chat = linked
    links = [f"https://arxiv.org/abs/{pid}" for pid in ("2401.99999", *IDS)]
    reply = await chat.post_links(*links)
    assert isinstance(reply, LinkedPapers)
    assert len(reply.cards) == MAX_CARDS - 1  # the unknown one takes a place and is skipped
    assert reply.left_out == len(links) - MAX_CARDS
    assert reply.not_found == ("2401.99999",)
    assert reply.note() == "2 more paper links in that message not shown; not found: 2401.99999"


async def test_no_paper_links_and_only_unknown_ones_get_an_error(linked) -> None:
    _bot, chat = linked
    reply = await chat.post_links("https://example.com/2605.00001", "hello")
    assert isinstance(reply, Error) and reply.message == "No paper links in that message."
    reply = await chat.post_links("https://arxiv.org/abs/2401.99999")
    assert isinstance(reply, Error) and "2401.99999" in reply.message


async def test_a_button_and_a_reaction_by_one_user_are_one_vote(linked) -> None:
    bot, chat = linked
    await chat.post_links("https://arxiv.org/abs/2605.00001", message="m1")
    ref = MessageRef(chat.channel("C1"), "m1")
    answer = await chat.press_vote("2605.00001", 1, user="ada")
    assert isinstance(answer, Text) and "your vote is +1" in answer.text
    await chat.react(ref, "+1", user="ada")
    tally = bot.store.tally("memory", "W1", "2605.00001")
    assert (tally.score, tally.ups, tally.downs) == (1, 1, 0)

    # Pressing again takes the button's vote back; the reaction still counts.
    answer = await chat.press_vote("2605.00001", 1, user="ada")
    assert isinstance(answer, Text) and "took back" in answer.text
    assert bot.store.vote_of("memory", "W1", "2605.00001", "ada") == 1
    await chat.react(ref, "+1", user="ada", added=False)
    assert bot.store.vote_of("memory", "W1", "2605.00001", "ada") == 0


async def test_pressing_again_takes_the_vote_back_and_the_other_button_switches(linked) -> None:
    bot, chat = linked
    await chat.post_links("https://arxiv.org/abs/2605.00001")
    await chat.press_vote("2605.00001", 1, user="ada")
    await chat.press_vote("2605.00001", -1, user="ada")
    assert bot.store.vote_of("memory", "W1", "2605.00001", "ada") == -1
    await chat.press_vote("2605.00001", -1, user="ada", channel="C2")  # any card of it
    assert bot.store.vote_of("memory", "W1", "2605.00001", "ada") == 0
    assert bot.store.tally("memory", "W1", "2605.00001").score == 0


async def test_a_button_and_an_opposite_reaction_cancel_out(linked) -> None:
    bot, chat = linked
    await chat.post_links("https://arxiv.org/abs/2605.00001", message="m1")
    await chat.react(MessageRef(chat.channel("C1"), "m1"), "-1", user="ada")
    answer = await chat.press_vote("2605.00001", 1, user="ada")
    assert isinstance(answer, Text) and "cancel out" in answer.text
    assert bot.store.vote_of("memory", "W1", "2605.00001", "ada") == 0


async def test_a_button_vote_updates_the_papers_live_cards(linked, paper_sources) -> None:
    bot, chat = linked
    await chat.command("subscribe hf", admin=True)
    await bot.poster.run_once()
    ref = next(s.ref for s in chat.cards() if s.reply.paper.id == "2605.00001")
    await chat.press_vote("2605.00001", 1, user="ada")
    await chat.wait_until(lambda: chat.shown(ref).votes == 1)


async def test_reactions_count_on_a_message_with_one_paper_link_only(linked) -> None:
    bot, chat = linked
    # Made before the card was asked for: read back when the message becomes votable.
    one = MessageRef(chat.channel("C1"), "one")
    await chat.react(one, "+1", user="early", deliver=False)
    await chat.post_links("https://arxiv.org/abs/2605.00001", message="one")
    await chat.react(one, "+1", user="ada")
    two = MessageRef(chat.channel("C1"), "two")
    await chat.post_links(
        "https://arxiv.org/abs/2605.00002", "https://arxiv.org/abs/2605.00003", message="two"
    )
    await chat.react(two, "+1", user="ada")
    assert bot.store.tally("memory", "W1", "2605.00001").ups == 2
    assert bot.store.tally("memory", "W1", "2605.00002").ups == 0
    assert bot.store.tally("memory", "W1", "2605.00003").ups == 0
    # A message nobody asked a card for stays a plain message.
    await chat.react(MessageRef(chat.channel("C1"), "other"), "+1", user="ada")
    assert bot.store.leaderboard("memory", "W1", None) == [
        bot.store.tally("memory", "W1", "2605.00001")
    ]


async def test_a_stale_or_hostile_vote_button_is_refused(linked) -> None:
    bot, chat = linked
    for value in ("2401.99999", "x" * 5000, "'; DROP TABLE votes; --"):
        answer = await chat.press_vote(value, 1)
        assert isinstance(answer, Error)
    assert bot.store.leaderboard("memory", "W1", None) == []


async def test_each_linked_card_shows_its_own_papers_votes(linked) -> None:
    _bot, chat = linked
    links = [f"https://arxiv.org/abs/{pid}" for pid in IDS[:3]]
    await chat.post_links(*links)
    for pid, value, user in ((IDS[0], -1, "ada"), (IDS[1], 1, "ada"), (IDS[1], 1, "bo")):
        await chat.press_vote(pid, value, user=user)
    reply = await chat.post_links(*links)
    assert isinstance(reply, LinkedPapers)
    shown = {c.card.paper.id: (c.card.votes, c.card.ups, c.card.downs) for c in reply.cards}
    assert shown == {IDS[0]: (-1, 0, 1), IDS[1]: (2, 2, 0), IDS[2]: (0, 0, 0)}
