"""A channel's taste: ``recommend`` and ``taste=N`` subscriptions learn from its votes."""

from __future__ import annotations

import pytest

from adapters.memory import MemoryAdapter
from bot.events import MessageRef
from bot.model.paper import Paper
from bot.replies import PaperCard, PaperList, Text
from tests.conftest import BACKENDS


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Channel votes, taste picks and follows are SQL of their own: both databases."""
    return request.param


DAY = "2026-05-12"  # within the week before the test clock (2026-05-13)

DIFFUSION = [
    ("Latent diffusion models for high resolution image synthesis", "denoising diffusion"),
    ("Faster sampling for diffusion models with fewer denoising steps", "diffusion sampler"),
    ("Video diffusion with temporal attention for text to video generation", "video diffusion"),
    ("Score based diffusion models and stochastic differential equations", "score diffusion"),
    ("Consistency distillation of image diffusion models", "diffusion distillation"),
    ("Diffusion transformers scale image generation", "diffusion transformer denoising"),
]
AGENTS = [
    ("Language model agents that browse the web", "web agents tool use planning"),
    ("Tool use and planning for autonomous LLM agents", "agents tools planning benchmark"),
    ("Memory for long horizon agents in software engineering", "agents memory repository"),
    ("Multi agent debate improves reasoning of language models", "agents debate reasoning"),
    ("A benchmark for computer use agents on desktop tasks", "agents benchmark desktop"),
    ("Reinforcement learning for tool calling agents", "agents reinforcement tool calling"),
]
ROBOTS = [
    ("Diffusion policy for robot manipulation", "robot manipulation policy diffusion grasping"),
    ("Robot grasping with visual diffusion policies", "robot grasping diffusion policy arm"),
    ("Learning dexterous robot hands from demonstrations", "robot hands dexterous demonstrations"),
]


def papers(titles, start: int, upvotes: int = 10) -> list[Paper]:
    return [
        Paper(
            f"2605.{start + i:05d}",
            title,
            abstract=f"We study {words} in this work. " * 3,
            published=DAY,
            upvotes=upvotes + i,
        )
        for i, (title, words) in enumerate(titles)
    ]


async def post(chat: MemoryAdapter, paper: Paper, channel: str = "C1") -> MessageRef:
    post_id = chat.bot.store.claim_post("memory", chat.workspace, channel, paper.id)
    ref = await chat.send(chat.channel(channel), PaperCard(paper, public=True))
    chat.bot.store.complete_post(post_id, ref.message)
    return ref


async def vote(chat: MemoryAdapter, paper: Paper, emoji: str, channel: str = "C1") -> None:
    await chat.react(await post(chat, paper, channel), emoji, user=f"voter-{paper.id}")


def setup_week(chat: MemoryAdapter) -> tuple[list[Paper], list[Paper], list[Paper]]:
    # Agents are the most upvoted on HF: popularity alone would put them first.
    diffusion, agents = papers(DIFFUSION, 1, 10), papers(AGENTS, 101, 500)
    robots = papers(ROBOTS, 201, 50)
    chat.bot.store.save_papers([*diffusion, *agents, *robots])
    return diffusion, agents, robots


def ids(reply: PaperList) -> list[str]:
    return [s.paper.id for s in reply.papers]


async def test_a_channel_that_upvoted_diffusion_gets_diffusion_first(chat) -> None:
    diffusion, agents, _ = setup_week(chat)
    for paper in diffusion[:3]:
        await vote(chat, paper, "+1")
    reply = await chat.command("recommend 3")
    assert isinstance(reply, PaperList)
    assert set(ids(reply)) == {p.id for p in diffusion[3:]}
    assert not set(ids(reply)) & {p.id for p in diffusion[:3]}  # voted papers are not news
    liked_titles = {p.title for p in diffusion[:3]}
    for scored in reply.papers:
        assert scored.why.startswith("like “")
        assert scored.why[len("like “") : -1] in liked_titles
    # Another channel of the same workspace has its own taste (here: none yet).
    other = await chat.command("recommend 3", channel="C2")
    assert isinstance(other, PaperList)
    assert ids(other) == [agents[-1].id, agents[-2].id, agents[-3].id]


async def test_downvotes_push_papers_away(chat) -> None:
    diffusion, _, robots = setup_week(chat)
    for paper in diffusion[:3]:
        await vote(chat, paper, "+1")
    before = ids(await chat.command("recommend 25"))
    await vote(chat, robots[0], "-1")
    await vote(chat, robots[2], "-1")
    after = ids(await chat.command("recommend 25"))
    assert robots[0].id not in after  # voted on: not recommended
    assert after.index(robots[1].id) > before.index(robots[1].id)


async def test_votes_in_another_channel_do_not_shape_this_ones_taste(chat) -> None:
    diffusion, agents, _ = setup_week(chat)
    for paper in diffusion[:3]:
        await vote(chat, paper, "+1", channel="C2")
    for paper in agents[:3]:
        await vote(chat, paper, "+1", channel="C1")
    reply = await chat.command("recommend 3")
    assert set(ids(reply)) == {p.id for p in agents[3:]}


async def test_cold_start_says_so_and_ranks_by_hf_upvotes(chat) -> None:
    diffusion, agents, _ = setup_week(chat)
    for paper in diffusion[:2]:
        await vote(chat, paper, "+1")
    reply = await chat.command("recommend 2")
    assert isinstance(reply, PaperList)
    assert "2 up-votes" in reply.note and "3" in reply.note
    assert "Hugging Face upvotes" in reply.note
    assert ids(reply) == [agents[-1].id, agents[-2].id]
    assert all(s.why == "" for s in reply.papers)


async def test_only_papers_from_the_last_seven_days(chat) -> None:
    diffusion, _, _ = setup_week(chat)
    old = Paper("2604.00001", "Old diffusion models for images", published="2026-05-01")
    chat.bot.store.save_papers([old])
    for paper in diffusion[:3]:
        await vote(chat, paper, "+1")
    assert old.id not in ids(await chat.command("recommend 25"))


async def test_recommend_with_nothing_in_the_store_and_bad_counts(chat) -> None:
    reply = await chat.command("recommend")
    assert isinstance(reply, Text) and "No papers from the last 7 days" in reply.text
    for bad in ("recommend 0", "recommend 26", "recommend many"):
        error = await chat.command(bad)
        assert type(error).__name__ == "Error", bad


# -- taste=N subscriptions --------------------------------------------------------------


async def test_taste_subscription_posts_the_best_n_per_day(chat, paper_sources, clock) -> None:
    # The recorded HF day has 50 papers, 6 about video (none of the 4 most upvoted); the
    # channel has voted up three papers about video generation.
    voted = [
        Paper("2601.00001", "Video generation", "Video diffusion for long videos.", published=DAY),
        Paper("2601.00002", "Video editing", "Editing video with a video model.", published=DAY),
        Paper("2601.00003", "Video world models", "Video prediction of the world.", published=DAY),
    ]
    chat.bot.store.save_papers(voted)
    for paper in voted:
        await vote(chat, paper, "+1", channel="C9")
    reply = await chat.command("subscribe hf taste=3", channel="C9", admin=True)
    assert isinstance(reply, Text) and "taste=3" in reply.text
    assert "best-matching" in reply.text
    await chat.bot.poster.run_once()
    posted = chat.card_ids("C9")[len(voted) :]
    assert len(posted) == 3
    papers = chat.bot.store.get_papers(posted)
    assert all("video" in (p.title + p.abstract).lower() for p in papers.values())
    await chat.bot.poster.run_once()  # the same day: nothing more
    assert len(chat.card_ids("C9")) == len(voted) + 3
    clock.advance(86400)  # a new day: three more at most
    await chat.bot.poster.run_once()
    assert 3 < len(chat.card_ids("C9")) - len(voted) <= 6


async def test_taste_on_a_channel_without_votes_says_what_happens(chat) -> None:
    reply = await chat.command("subscribe hf taste=2", admin=True)
    assert isinstance(reply, Text)
    assert "0 up-votes" in reply.text and "most Hugging Face upvotes" in reply.text
    await chat.bot.poster.run_once()
    posted = chat.bot.store.get_papers(chat.card_ids())
    assert len(posted) == 2
    listed = chat.bot.store.listed_papers(chat.bot.store.subscriptions()[0].feed, 86400 * 2)
    assert set(posted) == {p.id for p in listed[:2]}  # the two most upvoted


async def test_taste_out_of_range_is_refused_with_the_range(chat) -> None:
    for bad in ("taste=0", "taste=26", "taste=many"):
        reply = await chat.command(f"subscribe hf {bad}", admin=True)
        assert type(reply).__name__ == "Error", bad
        assert "taste" in reply.message
    assert chat.bot.store.subscriptions() == []
