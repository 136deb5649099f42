"""Live cards and Share through the core (memory adapter): counts follow votes and HF
upvotes, edits are coalesced per card, never in the poster's way, and Share posts once."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import pytest

from adapters.memory import MemoryAdapter
from bot.outbox import SendError
from bot.replies import Error, PaperCard, PaperList, Text
from tests.conftest import close_bot, make_bot
from tests.fakes.paper_sources import hf_item

INTERVAL = 0.3


def serve_today(fake, *specs: tuple[str, int]) -> None:
    fake.set_daily(
        "2026-05-13", [hf_item(pid, f"Paper about agents {pid}", upvotes=up) for pid, up in specs]
    )
    fake.set_default_daily([])


@pytest.fixture
async def live(settings, clock):
    bot = make_bot(replace(settings, card_edit_interval=INTERVAL), clock)
    chat = MemoryAdapter(bot)
    yield bot, chat
    await close_bot(bot)


async def post_one(bot, chat, paper_sources, channel: str = "C1", upvotes: int = 5):
    serve_today(paper_sources, ("2605.00001", upvotes))
    await chat.command("subscribe hf", admin=True, channel=channel)
    await bot.poster.run_once()
    [card] = chat.cards(channel)
    return card.ref


def card(chat: MemoryAdapter, ref) -> PaperCard:
    shown = chat.shown(ref)
    assert isinstance(shown, PaperCard)
    return shown


async def test_a_posted_card_shows_the_live_count(live, paper_sources) -> None:
    bot, chat = live
    ref = await post_one(bot, chat, paper_sources)
    assert (card(chat, ref).votes, card(chat, ref).ups, card(chat, ref).downs) == (0, 0, 0)
    await chat.react(ref, "+1", user="a")
    await chat.react(ref, "+1", user="b")
    await chat.react(ref, "-1", user="c")
    await chat.wait_until(lambda: card(chat, ref).count_text() == "+1 (2 up, 1 down)")
    assert card(chat, ref).public


async def test_a_storm_costs_a_few_edits_and_ends_on_the_exact_count(live, paper_sources) -> None:
    bot, chat = live
    ref = await post_one(bot, chat, paper_sources)
    for i in range(200):
        await chat.react(ref, "+1" if i % 4 else "-1", user=f"u{i}")
        if i % 50 == 0:
            await asyncio.sleep(0)  # let the first edit go out mid-storm
    await bot.cards.wait_idle(timeout=5)
    assert card(chat, ref).count_text() == "+100 (150 up, 50 down)"
    assert 1 <= len(chat.edits) <= 3


async def test_votes_in_one_channel_update_the_papers_cards_in_the_others(
    live, paper_sources
) -> None:
    bot, chat = live
    first = await post_one(bot, chat, paper_sources, "C1")
    second = await post_one(bot, chat, paper_sources, "C2")
    await chat.react(first, "fire", user="a")
    await chat.wait_until(lambda: card(chat, second).votes == 1 and card(chat, first).votes == 1)


async def test_new_hf_upvotes_reach_the_posted_card(live, paper_sources) -> None:
    bot, chat = live
    ref = await post_one(bot, chat, paper_sources, upvotes=5)
    serve_today(paper_sources, ("2605.00001", 120))
    await bot.poster.run_once()
    await chat.wait_until(lambda: card(chat, ref).paper.upvotes == 120)
    edits = len(chat.edits)
    await bot.poster.run_once()  # unchanged upvotes: no edit
    await bot.cards.wait_idle(timeout=5)
    assert len(chat.edits) == edits


async def test_a_failing_edit_is_retried_for_that_card_alone(live, paper_sources) -> None:
    bot, chat = live
    ref = await post_one(bot, chat, paper_sources)
    chat.edit_failures.append(RuntimeError("429 after retries"))
    await chat.react(ref, "+1", user="a")
    await chat.wait_until(lambda: card(chat, ref).votes == 1, timeout=5)


async def test_pending_edits_never_hold_up_a_posting_round(live, paper_sources) -> None:
    bot, chat = live
    ref = await post_one(bot, chat, paper_sources)
    stuck = asyncio.Event()

    async def hanging_edit(ref, reply) -> None:
        await stuck.wait()

    chat.edit = hanging_edit  # type: ignore[method-assign]
    await chat.react(ref, "+1", user="a")
    await chat.wait_until(lambda: bot.cards.busy)
    serve_today(paper_sources, ("2605.00001", 5), ("2605.00002", 9))
    started = time.monotonic()
    await asyncio.wait_for(bot.poster.run_once(), timeout=5)
    assert time.monotonic() - started < 2
    assert chat.card_ids("C1") == ["2605.00001", "2605.00002"]
    stuck.set()


async def test_share_posts_a_credited_card_once(live, paper_sources) -> None:
    bot, chat = live
    serve_today(paper_sources, ("2605.00007", 42))
    found = await chat.command("today")
    assert isinstance(found, PaperList) and found.shareable

    answer = await chat.share("2605.00007", name="Ada <@U1>")
    assert isinstance(answer, Text) and "Shared" in answer.text
    [shared] = chat.cards("C1")
    assert shared.reply.public and shared.reply.shared_by == "Ada <@U1>"

    again = await chat.share("2605.00007", user="U2", name="Bo")
    assert isinstance(again, Text) and f"memory://C1/{shared.ref.message}" in again.text
    assert len(chat.cards("C1")) == 1

    # It counts like any post: votes on it are votes, edits keep the credit.
    await chat.react(shared.ref, "+1", user="a")
    await chat.wait_until(lambda: card(chat, shared.ref).votes == 1)
    assert card(chat, shared.ref).shared_by == "Ada <@U1>"
    # And the poster never posts it there again.
    await chat.command("subscribe hf", admin=True)
    await bot.poster.run_once()
    assert chat.card_ids("C1") == ["2605.00007"]


async def test_share_where_paperboy_cannot_post_says_so_and_can_be_retried(
    live, paper_sources
) -> None:
    _, chat = live
    serve_today(paper_sources, ("2605.00007", 42))
    await chat.command("today")
    chat.failures.append(SendError("not_in_channel"))
    answer = await chat.share("2605.00007")
    assert isinstance(answer, Error) and "can't post in this channel" in answer.message
    assert "invite" in answer.hint.lower()
    assert chat.cards() == []
    assert isinstance(await chat.share("2605.00007"), Text)  # nothing left claimed
    assert len(chat.cards()) == 1


async def test_share_of_a_bad_id_is_a_clear_error(live) -> None:
    _, chat = live
    answer = await chat.share("not a paper")
    assert isinstance(answer, Error) and "no paper" in answer.message
    assert chat.sent == []


async def test_a_share_of_unknown_outcome_is_settled_by_the_next_round(live, paper_sources) -> None:
    bot, chat = live
    serve_today(paper_sources, ("2605.00007", 42))
    await chat.command("today")
    chat.failures.append(ConnectionResetError("dropped after sending"))
    answer = await chat.share("2605.00007")
    assert isinstance(answer, Error) and "not sure" in answer.message
    assert bot.store.pending_posts() != []
    await bot.poster.run_once()  # not in the channel: the claim is let go
    assert bot.store.pending_posts() == []
    assert isinstance(await chat.share("2605.00007"), Text)
    assert chat.card_ids("C1") == ["2605.00007"]
