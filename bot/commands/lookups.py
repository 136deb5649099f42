"""Looking papers up: ``search``, ``show`` and ``today``."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from bot.commands import REGISTRY
from bot.commands.bib import BIBTEX, bib_reply
from bot.commands.spec import CommandError, Param, ParsedCommand
from bot.events import CommandInvoked
from bot.model.calendar_period import FORMS, Kind, PeriodError, parse_period, period_of
from bot.model.paper import Paper
from bot.model.search_query import QueryError, SearchQuery, parse_search
from bot.replies import Error, PaperCard, PaperList, Reply, ScoredPaper, Text
from bot.sources.base import PaperSource
from bot.sources.http import SourceError
from bot.sources.registry import SourcesUnreachable
from storage.store import SearchIndexRebuilding

if TYPE_CHECKING:
    from bot.core import Bot

log = logging.getLogger(__name__)

SEARCH_LIMIT = 5
TODAY_LIMIT = 10
SEARCH_EXAMPLE = "Example: `/papers search diffusion author:ho since:2024-01-01`"
SAMPLE_NOTE = "Hugging Face can't be reached; showing the bundled sample papers."
PUBLIC = Param(
    "public", "show the answer to the whole channel", type=bool, kind="flag", usage="[public]"
)


def scored(bot: Bot, event: CommandInvoked, papers: list[Paper]) -> tuple[ScoredPaper, ...]:
    ch = event.channel
    votes = bot.store.votes_for(ch.platform, ch.workspace, (p.id for p in papers))
    return tuple(ScoredPaper(p, votes[p.id]) for p in papers)


@REGISTRY.command(
    "search",
    "find papers (best 5 matches)",
    Param(
        "query", "words to look for", kind="rest", required=True, min=1, max=300, usage="<words>"
    ),
    Param(
        "author",
        "only papers with this author",
        kind="filter",
        min=1,
        max=100,
        usage="[author:NAME]",
    ),
    Param(
        "category",
        "only this arXiv category, e.g. cs.CL",
        kind="filter",
        key="cat",
        min=1,
        max=40,
        usage="[cat:cs.CL]",
    ),
    Param(
        "since",
        "only papers published on or after YYYY-MM-DD",
        kind="filter",
        min=10,
        max=10,
        usage="[since:YYYY-MM-DD]",
    ),
    BIBTEX,
    description="Find papers by words, author, category or date",
)
async def search(bot: Bot, event: CommandInvoked, command: ParsedCommand) -> Reply:
    text, as_bibtex = bibtex_wanted(command.rest)
    paper_id = named_paper(bot, text)
    if paper_id is not None:  # an id or a link: that paper, as `show` finds it
        if as_bibtex:
            paper = await find_paper(bot, paper_id)
            return bib_reply([paper], paper_id, paper_id) if paper else not_found(bot, paper_id)
        return await paper_card(bot, event, paper_id)
    try:
        query = parse_search(text)
    except QueryError as exc:
        raise CommandError(str(exc), exc.hint or SEARCH_EXAMPLE) from None
    if query.is_empty:
        raise CommandError("Search for what?", SEARCH_EXAMPLE)
    papers = search_local(bot, query)
    down: list[str] = []  # sources that failed, which this channel hears of for the first time
    if len(papers) < SEARCH_LIMIT and query.text:
        for source in bot.sources.searchable:
            try:
                found = await source.search(query.text)
            except SourceError as exc:
                first = bot.search_outages.is_new(source.name)
                log.log(
                    logging.WARNING if first else logging.DEBUG,
                    "%s search failed: %s",
                    source.label,
                    exc,
                )
                if bot.search_outages.failed(source.name, event.channel):
                    down.append(source.label)
                continue
            bot.search_outages.worked(source.name)
            # Kept for next time; searched again so filters and ranking apply to all.
            bot.store.save_papers(found)
            papers = search_local(bot, query)
    if not papers:
        return nothing_found(bot, query, text, down)
    if as_bibtex:
        return bib_reply(papers, f"search-{text}", f"search “{text[:100]}”")
    note = f"{' and '.join(down)} search can't be reached right now; these are local results."
    return PaperList(f"Search: {text[:100]}", scored(bot, event, papers), note if down else "")


def named_paper(bot: Bot, text: str) -> str | None:
    """The paper id when the whole search is one paper id (arXiv id, DOI) or link."""
    words = text.split()
    return bot.sources.paper_id(words[0]) if len(words) == 1 else None


def nothing_found(bot: Bot, query: SearchQuery, text: str, down: list[str]) -> Error:
    hints = []
    if down:
        hints.append(
            f"{' and '.join(down)} search can't be reached right now, so only the papers "
            "already here were searched."
        )
    if query.category and uncategorised_matches(bot, query):
        hints.append(
            "Some papers match without `cat:` but have no category yet: Hugging Face papers "
            "get theirs once arXiv lists them (an arXiv subscription or snapshot import)."
        )
    return Error(
        f"No papers match “{text[:100]}”.",
        " ".join(hints) or "Try fewer or different words, or drop a filter.",
    )


def uncategorised_matches(bot: Bot, query: SearchQuery) -> bool:
    """Whether the query without its ``cat:`` finds papers that have no category at all."""
    without = replace(query, category="")
    if without.is_empty:
        return False
    return any(not p.categories for p in search_local(bot, without))


def bibtex_wanted(rest: str) -> tuple[str, bool]:
    """Search text without a final ``bibtex`` word, and whether it had one.

    Only a last word after others counts: ``search bibtex`` still looks for the word.
    """
    words = rest.split()
    if len(words) > 1 and words[-1].lower() == "bibtex":
        return rest[: rest.rstrip().rfind(words[-1])].strip(), True
    return rest, False


def search_local(bot: Bot, query: SearchQuery) -> list[Paper]:
    try:
        return bot.store.search(query, SEARCH_LIMIT)
    except SearchIndexRebuilding:
        raise CommandError(
            "The search index is being rebuilt; search works again in a few minutes.",
            "`/papers show <paper id>` and `/papers today` work meanwhile.",
        ) from None


@REGISTRY.command(
    "show",
    "one paper as a card",
    Param(
        "paper",
        "an arXiv id (2401.12345), a bioRxiv/medRxiv DOI, or a link to the paper",
        required=True,
        min=1,
        max=200,
        usage="<paper id or URL>",
    ),
    description="Show one paper as a card",
)
async def show(bot: Bot, event: CommandInvoked, command: ParsedCommand) -> Reply:
    paper_id = paper_argument(
        bot,
        command,
        "Show which paper?",
        "`/papers show 2401.12345` or `/papers show 10.1101/2024.01.01.123456`",
    )
    return await paper_card(bot, event, paper_id)


def paper_argument(bot: Bot, command: ParsedCommand, question: str, example: str) -> str:
    """The paper id the command's first word names; ``question`` when there is none."""
    hint = f"Give an arXiv id, a bioRxiv/medRxiv DOI or a link to the paper, e.g. {example}."
    if not command.words:
        raise CommandError(question, hint)
    paper_id = bot.sources.paper_id(command.words[0])
    if paper_id is None:
        raise CommandError(f"`{command.words[0][:60]}` is not a paper id or link I know.", hint)
    return paper_id


async def paper_card(bot: Bot, event: CommandInvoked, paper_id: str) -> Reply:
    paper = await find_paper(bot, paper_id)
    if paper is None:
        return not_found(bot, paper_id)
    ch = event.channel
    return PaperCard(paper, bot.store.net_votes(ch.platform, ch.workspace, paper.id))


def not_found(bot: Bot, paper_id: str) -> Error:
    """Where ``paper_id`` was looked for: the store, then every source that takes such ids."""
    places = ["locally", *(f"on {s.label}" for s in bot.sources if s.paper_id(paper_id))]
    return Error(
        f"I couldn't find {paper_id} {', '.join(places[:-1])} or {places[-1]}.",
        "Check the id; brand-new papers can take a day to appear.",
    )


async def find_paper(bot: Bot, paper_id: str) -> Paper | None:
    paper = bot.store.get_paper(paper_id)
    if paper is not None:
        return paper
    try:
        paper = await bot.sources.lookup(paper_id)
    except SourcesUnreachable as exc:
        raise CommandError(
            f"I can't reach {exc} to look up {paper_id} right now.",
            "Try again in a few minutes.",
        ) from None
    if paper is None:
        return None
    bot.store.save_papers([paper])
    return bot.store.get_paper(paper_id)


@REGISTRY.command(
    "today",
    "Hugging Face Daily Papers of today or of a past day, by upvotes",
    Param("date", "a past day, YYYY-MM-DD (default: today)", min=1, max=40, usage="[YYYY-MM-DD]"),
    PUBLIC,
    description="Hugging Face Daily Papers of today or a past day, by upvotes",
)
async def today(bot: Bot, event: CommandInvoked, command: ParsedCommand) -> Reply:
    if "date" in command.values:
        return await _period_list(bot, event, command, "day")
    public = command.flag("public")
    today = _today(bot)
    source = _daily_source(bot)
    try:
        daily = await source.daily_list(today)
    except SourceError as exc:
        log.warning("%s failed: %s", source.daily_name, exc)
        if bot.sample_papers:
            return sample_list(bot, event, public)
        raise _unreachable(source.daily_name) from None
    if not daily.papers:
        return Text(f"{source.daily_name} has nothing for today yet.")
    bot.store.save_papers(daily.papers)
    papers = _best(daily.papers)
    title = f"{source.daily_name}, {daily.day.isoformat()}"
    return PaperList(title, scored(bot, event, papers), public=public)


def sample_list(bot: Bot, event: CommandInvoked, public: bool) -> PaperList:
    """The bundled sample, labelled as such, for when the list of the day can't be had."""
    papers = sorted(bot.sample_papers, key=lambda p: p.upvotes or 0, reverse=True)[:TODAY_LIMIT]
    return PaperList(
        "Bundled sample papers",
        scored(bot, event, papers),
        SAMPLE_NOTE,
        public=public,
    )


@REGISTRY.command(
    "week",
    "the most upvoted Hugging Face papers of this or a past ISO week",
    Param("week", "an ISO week, YYYY-Www (default: this week)", min=1, max=40, usage="[YYYY-Www]"),
    PUBLIC,
    description="The most upvoted Hugging Face papers of a week",
)
async def week(bot: Bot, event: CommandInvoked, command: ParsedCommand) -> Reply:
    return await _period_list(bot, event, command, "week")


@REGISTRY.command(
    "month",
    "the most upvoted Hugging Face papers of this or a past month",
    Param("month", "a month, YYYY-MM (default: this month)", min=1, max=40, usage="[YYYY-MM]"),
    PUBLIC,
    description="The most upvoted Hugging Face papers of a month",
)
async def month(bot: Bot, event: CommandInvoked, command: ParsedCommand) -> Reply:
    return await _period_list(bot, event, command, "month")


async def _period_list(
    bot: Bot, event: CommandInvoked, command: ParsedCommand, kind: Kind
) -> Reply:
    """The best papers of one day, week or month; a period that has not begun is refused."""
    today = _today(bot)
    param = "date" if kind == "day" else kind
    text = command.values.get(param)
    try:
        period = parse_period(kind, str(text)) if text else period_of(kind, today)
    except PeriodError as exc:
        raise CommandError(exc.message, exc.hint) from None
    if period.first > today:
        raise CommandError(
            f"{period.key} hasn't begun yet, so it has no papers.",
            f"Today is {today.isoformat()} (UTC); {FORMS[kind]}",
        )
    source = _daily_source(bot)
    try:
        papers = await source.period_list(period)
    except SourceError as exc:
        log.warning("%s %s failed: %s", source.daily_name, period.key, exc)
        raise _unreachable(source.daily_name) from None
    if not papers:
        return Text(f"{source.daily_name} has no papers for {period.words}.")
    bot.store.save_papers(papers)
    title = f"{source.daily_name}, {period.words}"
    return PaperList(title, scored(bot, event, _best(papers)), public=command.flag("public"))


def _today(bot: Bot) -> date:
    return datetime.fromtimestamp(bot.clock(), UTC).date()


def _daily_source(bot: Bot) -> PaperSource:
    source = bot.sources.daily_source
    if source is None:
        raise CommandError("No paper source here has a list of the day.")
    return source


def _unreachable(name: str) -> CommandError:
    return CommandError(f"{name} can't be reached right now.", "Try again in a few minutes.")


def _best(papers: list[Paper]) -> list[Paper]:
    return sorted(papers, key=lambda p: p.upvotes or 0, reverse=True)[:TODAY_LIMIT]
