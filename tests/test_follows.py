"""Follows: one direct message per person per round listing the new papers they follow."""

from __future__ import annotations

import pytest

from adapters.memory import MemoryAdapter
from bot.model.paper import Paper
from bot.replies import Error, PaperList, Text
from tests.conftest import BACKENDS


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Channel votes, taste picks and follows are SQL of their own: both databases."""
    return request.param


def paper(pid: str, title: str, authors=("Ada Lovelace",), abstract: str = "") -> Paper:
    return Paper(pid, title, abstract=abstract, authors=tuple(authors), published="2026-05-13")


def dms_to(chat: MemoryAdapter, user: str) -> list[PaperList]:
    return [reply for to, reply in chat.dms if to == user]  # type: ignore[misc]


async def test_follow_author_and_keyword_one_message_per_round(chat, clock) -> None:
    assert "Following author:Hinton" in (await chat.command("follow author:Hinton")).text
    await chat.command("follow keyword:diffusion")
    await chat.command("follow keyword:diffusion", user="U2")
    clock.advance(1)
    chat.bot.store.save_papers(
        [
            paper("2605.00001", "Capsules again", ["Geoffrey Hinton"]),
            paper("2605.00002", "Latent diffusion, faster"),
            paper("2605.00003", "Nothing to see", ["Hintonia Smith"], "organs and more"),
        ]
    )
    await chat.bot.poster.run_once()
    [mine] = dms_to(chat, "U1")
    assert [s.paper.id for s in mine.papers] == ["2605.00001", "2605.00002"]
    assert [s.why for s in mine.papers] == [
        "you follow author:Hinton",
        "you follow keyword:diffusion",
    ]
    [theirs] = dms_to(chat, "U2")
    assert [s.paper.id for s in theirs.papers] == ["2605.00002"]
    # Never twice for the same paper and person: the next round sends nothing.
    await chat.bot.poster.run_once()
    assert len(chat.dms) == 2
    clock.advance(1)
    chat.bot.store.save_papers([paper("2605.00004", "Diffusion for audio")])
    await chat.bot.poster.run_once()
    assert [s.paper.id for s in dms_to(chat, "U1")[-1].papers] == ["2605.00004"]


async def test_papers_from_before_the_follow_are_not_news(chat, clock) -> None:
    chat.bot.store.save_papers([paper("2605.00001", "Diffusion before")])
    clock.advance(1)
    await chat.command("follow keyword:diffusion")
    await chat.bot.poster.run_once()
    assert chat.dms == []


async def test_follows_are_per_user_and_workspace(chat, bot) -> None:
    await chat.command("follow keyword:diffusion")
    assert "keyword:diffusion" in (await chat.command("follows")).text
    assert "nothing" in (await chat.command("follows", user="U2")).text
    elsewhere = MemoryAdapter(bot, workspace="W2")  # the same user id in another workspace
    assert "nothing" in (await elsewhere.command("follows")).text


async def test_unfollow_and_bad_input(chat, clock) -> None:
    await chat.command("follow author:Hinton")
    await chat.command("follow keyword:diffusion")
    assert isinstance(await chat.command("unfollow author:hinton"), Text)  # any case
    error = await chat.command("unfollow author:Hinton")
    assert isinstance(error, Error) and "don't follow" in error.message
    for bad in ("follow Hinton", "follow author:", "follow title:x", "follow"):
        reply = await chat.command(bad)
        assert isinstance(reply, Error), bad
    assert (await chat.command("unfollow all")).text == "Stopped all 1 follow(s)."
    assert "nothing" in (await chat.command("follows")).text
    clock.advance(1)
    chat.bot.store.save_papers([paper("2605.00001", "Diffusion after")])
    await chat.bot.poster.run_once()
    assert chat.dms == []


async def test_a_name_with_spaces(chat, clock) -> None:
    await chat.command("follow author:Geoffrey Hinton")
    clock.advance(1)
    chat.bot.store.save_papers(
        [
            paper("2605.00001", "A", ["Geoffrey E. Hinton"]),
            paper("2605.00002", "B", ["Geoffrey Hinton"]),
        ]
    )
    await chat.bot.poster.run_once()
    assert [s.paper.id for s in dms_to(chat, "U1")[0].papers] == ["2605.00002"]


async def test_closed_dms_are_told_once_in_the_next_answer(chat, clock) -> None:
    await chat.command("follow keyword:diffusion")
    chat.closed_dms.add("U1")
    clock.advance(1)
    chat.bot.store.save_papers([paper("2605.00001", "Diffusion one")])
    await chat.bot.poster.run_once()
    assert chat.dms == []
    told = await chat.command("follows")
    assert "direct messages are closed" in told.text
    assert "closed" not in (await chat.command("follows")).text  # once
    # Someone else's answer never carries it.
    chat.closed_dms.add("U2")
    await chat.command("follow keyword:diffusion", user="U2")
    clock.advance(1)
    chat.bot.store.save_papers([paper("2605.00002", "Diffusion two")])
    await chat.bot.poster.run_once()
    assert "closed" not in (await chat.command("follows")).text
    assert "closed" in (await chat.command("follows", user="U2")).text
