"""The ``/papers`` slash-command group: one subcommand per core command, with typed options.

Each subcommand only turns its options back into command text (``translate``) and hands it
to ``run``; the core does the parsing, checking and answering, the same as on Slack.

Subscription changes are checked at run time (Manage Channels in the channel, or
``PAPERBOY_ADMINS``). They cannot also be hidden by "default permissions": Discord only
accepts those on a top-level command, and ``/papers`` must stay usable by everyone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import discord
from discord import app_commands
from discord.app_commands import Choice, Range

from adapters.discord import translate

Runner = Callable[[discord.Interaction, str], Awaitable[None]]

PERIODS = [
    Choice(name="past day", value="day"),
    Choice(name="past week", value="week"),
    Choice(name="past month", value="month"),
    Choice(name="all time", value="all"),
]
SOURCES = [
    Choice(name="Hugging Face Daily Papers", value="hf"),
    Choice(name="arXiv category (give one in 'category')", value="arxiv"),
]


def build_group(run: Runner) -> app_commands.Group:
    papers = app_commands.Group(
        name="papers",
        description="Research papers: search, top voted, auto-posts",
        # Subscriptions and votes belong to a server's channels: no DMs, no user installs.
        guild_only=True,
        allowed_contexts=app_commands.AppCommandContext(guild=True),
        allowed_installs=app_commands.AppInstallationType(guild=True),
    )

    @papers.command(description="Find papers by words, author, category or date")
    @app_commands.describe(
        query="words to look for",
        author="only papers with this author",
        category="only this arXiv category, e.g. cs.CL",
        since="only papers published on or after YYYY-MM-DD",
    )
    async def search(
        interaction: discord.Interaction,
        query: Range[str, 1, 300],
        author: Range[str, 1, 100] | None = None,
        category: Range[str, 1, 40] | None = None,
        since: Range[str, 10, 10] | None = None,
    ) -> None:
        await run(interaction, translate.search_text(query, author, category, since))

    @papers.command(description="Show one paper as a card")
    @app_commands.describe(paper="an arXiv id such as 2401.12345, or an arXiv / HF link")
    async def show(interaction: discord.Interaction, paper: Range[str, 1, 200]) -> None:
        await run(interaction, translate.show_text(paper))

    @papers.command(description="The papers this server voted up most")
    @app_commands.describe(
        period="how far back (default: past week)", public="show the answer to the whole channel"
    )
    @app_commands.choices(period=PERIODS)
    async def top(
        interaction: discord.Interaction,
        period: Choice[str] | None = None,
        public: bool = False,
    ) -> None:
        await run(interaction, translate.top_text(period.value if period else None, public))

    @papers.command(description="Today's Hugging Face Daily Papers by upvotes")
    @app_commands.describe(public="show the answer to the whole channel")
    async def today(interaction: discord.Interaction, public: bool = False) -> None:
        await run(interaction, translate.today_text(public))

    @papers.command(description="Auto-post new papers in this channel (Manage Channels)")
    @app_commands.describe(
        source="where papers come from",
        category="arXiv category, e.g. cs.CL (arXiv only)",
        min_upvotes="only papers with at least this many HF upvotes (HF only)",
        keywords="comma-separated; a paper must mention one",
        authors="comma-separated; a paper must have one of them",
    )
    @app_commands.choices(source=SOURCES)
    async def subscribe(
        interaction: discord.Interaction,
        source: Choice[str],
        category: Range[str, 1, 40] | None = None,
        min_upvotes: Range[int, 0, 100_000] | None = None,
        keywords: Range[str, 1, 500] | None = None,
        authors: Range[str, 1, 500] | None = None,
    ) -> None:
        text = translate.subscribe_text(source.value, category, min_upvotes, keywords, authors)
        await run(interaction, text)

    @papers.command(description="Stop auto-posts in this channel (Manage Channels)")
    @app_commands.describe(
        id="the subscription's number, from /papers subscriptions",
        all="stop every subscription of this channel",
    )
    async def unsubscribe(
        interaction: discord.Interaction,
        id: Range[int, 1, 10**12] | None = None,
        all: bool = False,
    ) -> None:
        await run(interaction, translate.unsubscribe_text(id, all))

    @papers.command(description="What this channel is subscribed to")
    async def subscriptions(interaction: discord.Interaction) -> None:
        await run(interaction, "subscriptions")

    @papers.command(name="help", description="What paperboy can do")
    async def help_(interaction: discord.Interaction) -> None:
        await run(interaction, "help")

    return papers
