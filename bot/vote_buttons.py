"""The 👍 / 👎 buttons on the cards of linked papers.

A press is kept as a reaction-like entry in the vote ledger (``Store.press_vote_button``),
so a button vote and a reaction by the same user on the same paper are one vote, and a
button 👍 with a 👎 reaction cancel out, as two reactions would. Pressing the same button
again takes that vote back; pressing the other one switches it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.events import VotePressed
from bot.replies import Error, Reply, Text
from bot.text_safety import display_title, shorten
from storage.store import Post

if TYPE_CHECKING:
    from bot.core import Bot

EMOJI = {1: "👍", -1: "👎"}


async def press(bot: Bot, event: VotePressed) -> Reply:
    ch = event.channel
    paper_id = bot.sources.paper_id(event.paper_id[:200])
    paper = bot.store.get_paper(paper_id) if paper_id else None
    if paper is None or event.value not in EMOJI:
        return Error(
            "That vote button points to no paper I know.",
            "Look the paper up again, e.g. `/papers show 2401.12345`.",
        )
    if event.user.is_bot:
        return Error("Bots don't vote.")
    on, vote = bot.store.press_vote_button(
        ch.platform, ch.workspace, paper.id, event.user.id, event.value
    )
    # Every card of the paper in this workspace shows the new count.
    bot.cards.votes_changed(Post(0, ch.platform, ch.workspace, ch.channel, paper.id, None, "sent"))
    tally = bot.store.tally(ch.platform, ch.workspace, paper.id)
    title = shorten(display_title(paper), 100)
    emoji = EMOJI[event.value]
    if on and vote == event.value:
        said = f"Your {emoji} on “{title}” counts: your vote is {vote:+d}."
        said += f" Press {emoji} again to take it back."
    elif on:
        said = (
            f"Your {emoji} on “{title}” is in, but a reaction of yours votes the other way, "
            "so they cancel out: your vote is 0."
        )
    else:
        now = f"{vote:+d} (from your reactions)" if vote else "0"
        said = f"You took back your {emoji} on “{title}”; your vote is now {now}."
    return Text(f"{said}\nTeam: {tally.score:+,} ({tally.ups:,} up, {tally.downs:,} down).")
