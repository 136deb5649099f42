"""Papers this channel would vote for: ``recommend``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.channel_taste import channel_taste, cold_note, rank, week_papers, why
from bot.commands import REGISTRY
from bot.commands.spec import Param, ParsedCommand
from bot.events import CommandInvoked
from bot.replies import PaperList, Reply, ScoredPaper, Text

if TYPE_CHECKING:
    from bot.core import Bot

RECOMMEND_DEFAULT = 5
RECOMMEND_MAX = 25


@REGISTRY.command(
    "recommend",
    "this week's papers most like what this channel voted up",
    Param(
        "n",
        f"how many (1-{RECOMMEND_MAX}, default {RECOMMEND_DEFAULT})",
        type=int,
        min=1,
        max=RECOMMEND_MAX,
        usage="[n]",
    ),
    description="This week's papers most like what this channel voted up",
)
async def recommend(bot: Bot, event: CommandInvoked, command: ParsedCommand) -> Reply:
    n = int(command.values.get("n", RECOMMEND_DEFAULT))  # type: ignore[arg-type]
    taste = channel_taste(bot.store, event.channel)
    candidates = week_papers(bot.store, bot.clock())
    picks = rank(taste, candidates, n)
    if not picks:
        return Text(
            "No papers from the last 7 days are here yet to recommend from. Subscribe to a "
            "source (`/papers subscribe hf`) or import arXiv, then ask again."
        )
    ch = event.channel
    votes = bot.store.votes_for(ch.platform, ch.workspace, (p.paper.id for p in picks))
    papers = tuple(ScoredPaper(p.paper, votes[p.paper.id], why(p)) for p in picks)
    note = cold_note(taste) if taste.cold else ""
    title = "Most upvoted this week" if taste.cold else "Recommended for this channel"
    return PaperList(title, papers, note)
