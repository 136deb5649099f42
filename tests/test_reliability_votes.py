"""The vote ledger follows the platform's reactions exactly, whatever their spelling.

Found by the reaction storm: 👍 and 👍🏽 (or Slack's ``+1`` and ``+1::skin-tone-2``) are two
different reactions on the platform that mean the same vote. Taking one of them back must
leave the other one, and so the vote, standing.
"""

from __future__ import annotations

import pytest

from adapters.memory import MemoryAdapter
from bot.model.paper import Paper
from bot.replies import PaperCard


async def post(chat: MemoryAdapter, paper_id: str = "2605.00001"):
    paper = Paper(paper_id, f"Paper {paper_id}", published="2026-05-13")
    chat.bot.store.save_papers([paper])
    post_id = chat.bot.store.claim_post("memory", chat.workspace, "C1", paper_id)
    ref = await chat.send(chat.channel("C1"), PaperCard(paper))
    chat.bot.store.complete_post(post_id, ref.message)
    return ref


@pytest.mark.parametrize(
    ("kept", "taken_back"),
    [("👍", "👍🏽"), ("👍🏽", "👍"), ("+1", "+1::skin-tone-2"), ("⬆️", "⬆"), ("-1", "thumbsdown")],
)
async def test_taking_back_one_spelling_keeps_the_other(
    chat: MemoryAdapter, kept: str, taken_back: str
) -> None:
    ref = await post(chat)
    await chat.react(ref, kept, user="u")
    await chat.react(ref, taken_back, user="u")
    await chat.react(ref, taken_back, user="u", added=False)
    vote = chat.bot.rules.value(kept)
    assert chat.bot.store.net_votes("memory", chat.workspace, "2605.00001") == vote
    await chat.react(ref, kept, user="u", added=False)
    assert chat.bot.store.net_votes("memory", chat.workspace, "2605.00001") == 0
