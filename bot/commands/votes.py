"""What the team voted for: ``top``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.commands import REGISTRY
from bot.commands.lookups import PUBLIC
from bot.commands.spec import CommandError, Param, ParsedCommand
from bot.events import CommandInvoked
from bot.replies import Leaderboard, LeaderboardEntry, Reply

if TYPE_CHECKING:
    from bot.core import Bot

PERIODS = {"day": 1, "week": 7, "month": 30, "all": None}
PERIOD_CHOICES = [
    ("past day", "day"),
    ("past week", "week"),
    ("past month", "month"),
    ("all time", "all"),
]


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
    description="The papers this server voted up most",
)
async def top(bot: Bot, event: CommandInvoked, command: ParsedCommand) -> Reply:
    period = str(command.values.get("period", "week")).lower()
    if period not in PERIODS:
        raise CommandError(f"`{period[:40]}` is not a period.", "Use day, week, month or all.")
    days = PERIODS[period]
    since = None if days is None else bot.clock() - days * 86400
    ch = event.channel
    tallies = bot.store.leaderboard(ch.platform, ch.workspace, since)
    papers = bot.store.get_papers(t.paper_id for t in tallies)
    entries = tuple(
        LeaderboardEntry(papers[t.paper_id], t.score, t.ups, t.downs)
        for t in tallies
        if t.paper_id in papers
    )
    return Leaderboard(period, entries, public=command.flag("public"))
