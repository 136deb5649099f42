"""What the team voted for: ``top``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.commands import REGISTRY
from bot.commands.bib import BIBTEX, bib_reply, today
from bot.commands.lookups import PUBLIC
from bot.commands.spec import CommandError, Param, ParsedCommand
from bot.events import CommandInvoked
from bot.replies import Leaderboard, LeaderboardEntry, Reply, Text

if TYPE_CHECKING:
    from bot.core import Bot

PERIODS = {"day": 1, "week": 7, "month": 30, "all": None}
PERIOD_CHOICES = [
    ("past day", "day"),
    ("past week", "week"),
    ("past month", "month"),
    ("all time", "all"),
]
PERIOD_NAMES = {"day": "today", "week": "this week", "month": "this month", "all": "all time"}
# A .bib of the team's favourites is a reading list, so it goes further than the chat list.
BIBTEX_LIMIT = 100


@REGISTRY.command(
    "top",
    "what this team upvoted most",
    Param(
        "period",
        "how far back (default: past week)",
        choices=PERIOD_CHOICES,
        usage="[day|week|month|all]",
    ),
    PUBLIC,
    BIBTEX,
    description="The papers this server voted up most",
)
async def top(bot: Bot, event: CommandInvoked, command: ParsedCommand) -> Reply:
    period = str(command.values.get("period", "week")).lower()
    if period not in PERIODS:
        raise CommandError(f"`{period[:40]}` is not a period.", "Use day, week, month or all.")
    days = PERIODS[period]
    since = None if days is None else bot.clock() - days * 86400
    ch = event.channel
    if command.flag("bibtex"):
        return _top_bibtex(bot, event, period, since)
    tallies = bot.store.leaderboard(ch.platform, ch.workspace, since)
    papers = bot.store.get_papers(t.paper_id for t in tallies)
    entries = tuple(
        LeaderboardEntry(papers[t.paper_id], t.score, t.ups, t.downs)
        for t in tallies
        if t.paper_id in papers
    )
    return Leaderboard(period, entries, public=command.flag("public"))


def _top_bibtex(bot: Bot, event: CommandInvoked, period: str, since: float | None) -> Reply:
    """The papers the team voted up (net score above zero) in ``period``, as a .bib file."""
    ch = event.channel
    tallies = bot.store.leaderboard(ch.platform, ch.workspace, since, limit=BIBTEX_LIMIT)
    papers = bot.store.get_papers(t.paper_id for t in tallies)
    liked = [papers[t.paper_id] for t in tallies if t.score > 0 and t.paper_id in papers]
    heading = PERIOD_NAMES[period]
    if not liked:
        return Text(
            f"Nothing to cite: no paper was voted up {heading}. "
            "React 👍 on a posted paper to vote, or try a longer period (`top all bibtex`)."
        )
    return bib_reply(liked, f"top-{period}-{today(bot.clock())}", f"the team's top {heading}")
