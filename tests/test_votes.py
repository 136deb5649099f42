"""The vote ledger: one vote per user per paper per workspace, derived from reactions."""

from __future__ import annotations

import pytest

from adapters.memory import MemoryAdapter
from bot.events import MessageRef
from bot.model.paper import Paper
from bot.plain_text import meta_line, render_text
from bot.replies import PaperCard
from bot.votes import normalize_emoji
from tests.conftest import BACKENDS


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


async def post(chat: MemoryAdapter, paper_id: str, channel: str = "C1") -> MessageRef:
    """Post a card the way the poster does: claim, send, record."""
    paper = Paper(paper_id, f"Paper {paper_id}", published="2026-05-13")
    chat.bot.store.save_papers([paper])
    post_id = chat.bot.store.claim_post("memory", chat.workspace, channel, paper_id)
    ref = await chat.send(chat.channel(channel), PaperCard(paper))
    chat.bot.store.complete_post(post_id, ref.message)
    return ref


def score(chat: MemoryAdapter, paper_id: str) -> int:
    return chat.bot.store.net_votes("memory", chat.workspace, paper_id)


def test_emoji_names_are_normalised() -> None:
    assert normalize_emoji(":+1::skin-tone-3:") == "+1"
    assert normalize_emoji("👍🏽") == "👍"
    assert normalize_emoji("⬆️") == "⬆"
    assert normalize_emoji("Fire") == "fire"


async def test_up_and_down_emoji_in_slack_names_and_unicode(chat) -> None:
    ref = await post(chat, "2605.00001")
    for i, emoji in enumerate(
        ["+1", "thumbsup", "arrow_up", "fire", "👍", "🔥", "⬆️", "+1::skin-tone-2", "👍🏿"]
    ):
        await chat.react(ref, emoji, user=f"up{i}")
    for i, emoji in enumerate(["-1", "thumbsdown", "arrow_down", "👎", "⬇️"]):
        await chat.react(ref, emoji, user=f"down{i}")
    assert score(chat, "2605.00001") == 9 - 5


async def test_other_emoji_messages_and_the_bot_itself_do_not_vote(chat) -> None:
    ref = await post(chat, "2605.00001")
    await chat.react(ref, "tada")
    await chat.react(ref, "+1", bot_user=True)
    await chat.react(MessageRef(ref.channel, "not-our-post"), "+1")
    assert score(chat, "2605.00001") == 0
    assert chat.bot.store.leaderboard("memory", "W1", None) == []


async def test_one_vote_per_user_per_paper_however_many_posts_or_emoji(chat) -> None:
    first = await post(chat, "2605.00001", "C1")
    second = await post(chat, "2605.00001", "C2")
    for ref in (first, second):
        for emoji in ("+1", "fire", "👍", "arrow_up"):
            await chat.react(ref, emoji, user="stuffer")
    assert score(chat, "2605.00001") == 1
    # Taking back some of them keeps the vote; taking back all of them removes it.
    for emoji in ("+1", "fire", "👍", "arrow_up"):
        await chat.react(first, emoji, user="stuffer", added=False)
    assert score(chat, "2605.00001") == 1
    for emoji in ("+1", "fire", "👍", "arrow_up"):
        await chat.react(second, emoji, user="stuffer", added=False)
    assert score(chat, "2605.00001") == 0


async def test_unreacting_removes_the_vote(chat) -> None:
    ref = await post(chat, "2605.00001")
    await chat.react(ref, "+1")
    assert score(chat, "2605.00001") == 1
    await chat.react(ref, "+1", added=False)
    assert score(chat, "2605.00001") == 0


async def test_repeated_and_reordered_events_change_nothing(chat) -> None:
    ref = await post(chat, "2605.00001")
    for _ in range(3):
        await chat.react(ref, "+1", user="a")
    assert score(chat, "2605.00001") == 1
    for _ in range(3):
        await chat.react(ref, "+1", user="a", added=False)
    assert score(chat, "2605.00001") == 0
    # A removal delivered before its add (platforms do reorder) leaves the add standing,
    # which is what the user's screen shows.
    await chat.react(ref, "fire", user="b", added=False)
    await chat.react(ref, "fire", user="b")
    assert score(chat, "2605.00001") == 1


async def test_up_and_down_from_one_user_cancel_out(chat) -> None:
    ref = await post(chat, "2605.00001")
    await chat.react(ref, "+1", user="a")
    await chat.react(ref, "-1", user="a")
    assert score(chat, "2605.00001") == 0
    await chat.react(ref, "+1", user="a", added=False)
    assert score(chat, "2605.00001") == -1


async def test_votes_are_per_workspace(bot) -> None:
    team_a, team_b = MemoryAdapter(bot, "A"), MemoryAdapter(bot, "B")
    ref_a = await post(team_a, "2605.00001")
    ref_b = await post(team_b, "2605.00001")
    await team_a.react(ref_a, "+1", user="u")
    await team_b.react(ref_b, "-1", user="u")
    assert score(team_a, "2605.00001") == 1
    assert score(team_b, "2605.00001") == -1


async def test_top_ranks_by_net_votes_within_the_period(chat, clock) -> None:
    old = await post(chat, "2605.00001")
    for user in ("a", "b", "c"):
        await chat.react(old, "+1", user=user)
    clock.advance(10 * 86400)
    liked = await post(chat, "2605.00002")
    mixed = await post(chat, "2605.00003")
    for user in ("a", "b"):
        await chat.react(liked, "fire", user=user)
    await chat.react(mixed, "+1", user="a")
    await chat.react(mixed, "-1", user="b")
    await chat.react(mixed, "+1", user="c")

    week = await chat.command("top week")
    assert [(e.paper.id, e.score, e.ups, e.downs) for e in week.entries] == [
        ("2605.00002", 2, 2, 0),
        ("2605.00003", 1, 2, 1),
    ]
    everything = await chat.command("top all")
    assert [e.paper.id for e in everything.entries] == ["2605.00001", "2605.00002", "2605.00003"]
    month = await chat.command("top month")
    assert len(month.entries) == 3
    clock.advance(2 * 86400)
    assert (await chat.command("top day")).entries == ()


async def test_cards_show_the_team_votes(chat) -> None:
    ref = await post(chat, "2605.00001")
    await chat.react(ref, "+1", user="a")
    await chat.react(ref, "+1", user="b")
    card = await chat.command("show 2605.00001")
    assert isinstance(card, PaperCard) and card.votes == 2


async def test_top_shows_papers_voted_down_or_even_with_their_net(chat) -> None:
    down = await post(chat, "2605.00001")
    even = await post(chat, "2605.00002")
    await chat.react(down, "-1", user="a")
    await chat.react(even, "+1", user="a")
    await chat.react(even, "-1", user="b")
    top = await chat.command("top")
    assert [(e.paper.id, e.score, e.ups, e.downs) for e in top.entries] == [
        ("2605.00002", 0, 1, 1),
        ("2605.00001", -1, 0, 1),
    ]
    assert "No votes" not in render_text(top)
    assert "-1  Paper 2605.00001" in render_text(top)


def test_one_team_vote_is_singular_in_plain_text() -> None:
    paper = Paper("2605.00001", "P", published="2026-05-13")
    assert meta_line(paper, 1).endswith("· +1 team vote")
    assert meta_line(paper, -1).endswith("· -1 team vote")
    assert meta_line(paper, 2).endswith("· +2 team votes")
