"""The command core: one ``handle(event)`` for every platform.

Adapters turn platform payloads into ``CommandInvoked`` / ``ReactionChanged`` and render the
replies; everything in between happens here, with no platform SDK in sight.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bot.commands import (
    ADMIN_COMMANDS,
    COMMANDS,
    CommandError,
    ParsedCommand,
    parse_command,
)
from bot.config import Settings
from bot.events import CommandInvoked, Event, ReactionChanged
from bot.ids import canonical_id
from bot.outbox import Outbox
from bot.papers import Paper
from bot.poster import Poster
from bot.replies import (
    Error,
    Help,
    Leaderboard,
    LeaderboardEntry,
    PaperCard,
    PaperList,
    Reply,
    ScoredPaper,
    SubscriptionInfo,
    SubscriptionList,
    Text,
)
from bot.search_query import QueryError, parse_search
from bot.sources import SourceError, Sources
from bot.subscriptions import parse_subscribe, same_request
from bot.votes import VoteRules, record_reaction
from storage.store import Store, Subscription

log = logging.getLogger(__name__)

SEARCH_LIMIT = 5
TODAY_LIMIT = 10
SEARCH_EXAMPLE = "Example: `/papers search diffusion author:ho since:2024-01-01`"
PERIODS = {"day": 1, "week": 7, "month": 30, "all": None}


class Bot:
    def __init__(
        self,
        store: Store,
        sources: Sources,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.sources = sources
        self.settings = settings
        self.clock = clock
        self.rules = VoteRules.from_settings(settings)
        self.outboxes: dict[str, Outbox] = {}
        self.poster = Poster(store, sources, settings, self.outboxes, clock)
        self._poster_task: asyncio.Task | None = None

    def attach(self, outbox: Outbox) -> None:
        self.outboxes[outbox.platform] = outbox

    async def start(self) -> None:
        """Start auto-posting; its first round settles posts a crash left unfinished."""
        if self._poster_task is None:
            self._poster_task = asyncio.create_task(self.poster.run_forever(), name="poster")

    async def stop(self) -> None:
        if self._poster_task is not None:
            self._poster_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poster_task
            self._poster_task = None

    # -- events -------------------------------------------------------------------------

    async def handle(self, event: Event) -> None:
        """Handle one event; never raises, so one bad event cannot take an adapter down."""
        try:
            if isinstance(event, ReactionChanged):
                record_reaction(self.store, self.rules, event)
            else:
                await self._command(event)
        except Exception:
            log.exception("could not handle %s", type(event).__name__)
            if isinstance(event, CommandInvoked):
                await self._respond(
                    event,
                    Error(
                        "Something went wrong on my side; nothing was changed.",
                        "Try again in a minute. If it keeps happening, tell whoever runs paperboy.",
                    ),
                )

    async def _respond(self, event: CommandInvoked, reply: Reply) -> None:
        try:
            await event.respond(reply)
        except Exception:
            log.exception("could not deliver a reply to %s", event.channel)

    async def _command(self, event: CommandInvoked) -> None:
        try:
            command = parse_command(event.text)
            if command.name in ADMIN_COMMANDS and not await self._is_admin(event):
                raise CommandError(
                    "Only channel or workspace admins can change subscriptions.",
                    "Ask an admin, or ask whoever runs paperboy to add you to PAPERBOY_ADMINS.",
                )
            reply = await self._dispatch(event, command)
        except CommandError as exc:
            reply = Error(exc.message, exc.hint)
        except QueryError as exc:
            reply = Error(str(exc), SEARCH_EXAMPLE)
        await self._respond(event, reply)

    async def _is_admin(self, event: CommandInvoked) -> bool:
        user = event.user
        if user.is_admin or user.id in self.settings.admins:
            return True
        if f"{user.platform}:{user.id}" in self.settings.admins:
            return True
        return event.check_admin is not None and await event.check_admin()

    async def _dispatch(self, event: CommandInvoked, command: ParsedCommand) -> Reply:
        handlers = {
            "help": self._help,
            "search": self._search,
            "show": self._show,
            "top": self._top,
            "today": self._today,
            "subscribe": self._subscribe,
            "unsubscribe": self._unsubscribe,
            "subscriptions": self._subscriptions,
        }
        return await handlers[command.name](event, command)

    # -- lookups ------------------------------------------------------------------------

    async def _help(self, event: CommandInvoked, command: ParsedCommand) -> Reply:
        return Help(tuple((f"/papers {spec.usage}", spec.summary) for spec in COMMANDS))

    def _scored(self, event: CommandInvoked, papers: list[Paper]) -> tuple[ScoredPaper, ...]:
        ch = event.channel
        return tuple(
            ScoredPaper(p, self.store.net_votes(ch.platform, ch.workspace, p.id)) for p in papers
        )

    async def _search(self, event: CommandInvoked, command: ParsedCommand) -> Reply:
        query = parse_search(command.rest)
        if query.is_empty:
            raise CommandError("Search for what?", SEARCH_EXAMPLE)
        papers = self.store.search(query, SEARCH_LIMIT)
        note = ""
        if len(papers) < SEARCH_LIMIT and query.text:
            try:
                found = await self.sources.hf.search(query.text)
            except SourceError as exc:
                log.warning("HF search failed: %s", exc)
                note = "Hugging Face search can't be reached right now; these are local results."
            else:
                # Kept for next time; searched again so filters and ranking apply to all.
                self.store.save_papers(found)
                papers = self.store.search(query, SEARCH_LIMIT)
        if not papers:
            return Error(
                f"No papers match “{command.rest[:100]}”.",
                note or "Try fewer or different words, or drop a filter.",
            )
        return PaperList(f"Search: {command.rest[:100]}", self._scored(event, papers), note)

    async def _show(self, event: CommandInvoked, command: ParsedCommand) -> Reply:
        hint = "Give an arXiv id or link, e.g. `/papers show 2401.12345` or an arxiv.org URL."
        if not command.words:
            raise CommandError("Show which paper?", hint)
        paper_id = canonical_id(command.words[0])
        if paper_id is None:
            raise CommandError(f"`{command.words[0][:60]}` is not an arXiv id or URL.", hint)
        paper = await self._find_paper(paper_id)
        if paper is None:
            return Error(
                f"I couldn't find arXiv {paper_id} locally, on Hugging Face or on arXiv.",
                "Check the id; brand-new papers can take a day to appear.",
            )
        ch = event.channel
        return PaperCard(paper, self.store.net_votes(ch.platform, ch.workspace, paper.id))

    async def _find_paper(self, paper_id: str) -> Paper | None:
        paper = self.store.get_paper(paper_id)
        if paper is not None:
            return paper
        unreachable = []
        try:
            paper = await self.sources.hf.paper(paper_id)
        except SourceError as exc:
            unreachable.append(str(exc))
        if paper is None:
            try:
                found = await self.sources.arxiv.lookup([paper_id])
                paper = next((p for p in found if p.id == paper_id), None)
            except SourceError as exc:
                unreachable.append(str(exc))
        if paper is None:
            if len(unreachable) == 2:
                raise CommandError(
                    f"I can't reach Hugging Face or arXiv to look up {paper_id} right now.",
                    "Try again in a few minutes.",
                )
            return None
        self.store.save_papers([paper])
        return self.store.get_paper(paper_id)

    async def _top(self, event: CommandInvoked, command: ParsedCommand) -> Reply:
        words = [w.lower() for w in command.words]
        public = "public" in words
        periods = [w for w in words if w != "public"]
        period = periods[0] if periods else "week"
        if period not in PERIODS or len(periods) > 1:
            raise CommandError(
                f"`{' '.join(periods)[:40]}` is not a period.", "Use day, week, month or all."
            )
        days = PERIODS[period]
        since = None if days is None else self.clock() - days * 86400
        ch = event.channel
        tallies = self.store.leaderboard(ch.platform, ch.workspace, since)
        papers = self.store.get_papers(t.paper_id for t in tallies)
        entries = tuple(
            LeaderboardEntry(papers[t.paper_id], t.score, t.ups, t.downs)
            for t in tallies
            if t.paper_id in papers
        )
        return Leaderboard(period, entries, public=public)

    async def _today(self, event: CommandInvoked, command: ParsedCommand) -> Reply:
        public = "public" in (w.lower() for w in command.words)
        today = datetime.fromtimestamp(self.clock(), UTC).date()
        try:
            papers = await self.sources.hf.daily(today)
            day = today
            if not papers:  # the list fills during the day; early on, show yesterday's
                day = today - timedelta(days=1)
                papers = await self.sources.hf.daily(day)
        except SourceError as exc:
            log.warning("HF daily failed: %s", exc)
            raise CommandError(
                "Hugging Face Daily Papers can't be reached right now.",
                "Try again in a few minutes.",
            ) from None
        if not papers:
            return Text("Hugging Face Daily Papers has nothing for today yet.")
        self.store.save_papers(papers)
        papers = sorted(papers, key=lambda p: p.upvotes or 0, reverse=True)[:TODAY_LIMIT]
        title = f"Hugging Face Daily Papers, {day.isoformat()}"
        return PaperList(title, self._scored(event, papers), public=public)

    # -- subscriptions ------------------------------------------------------------------

    def _channel_subscriptions(self, event: CommandInvoked) -> list[Subscription]:
        ch = event.channel
        return self.store.subscriptions(
            platform=ch.platform, workspace=ch.workspace, channel=ch.channel
        )

    async def _subscribe(self, event: CommandInvoked, command: ParsedCommand) -> Reply:
        request = parse_subscribe(command)
        existing = next(
            (s for s in self._channel_subscriptions(event) if same_request(s, request)), None
        )
        if existing is not None:
            return Text(f"This channel already has that subscription (#{existing.id}).")
        ch = event.channel
        sub = self.store.add_subscription(
            platform=ch.platform,
            workspace=ch.workspace,
            channel=ch.channel,
            source=request.source,
            category=request.category,
            min_upvotes=request.min_upvotes,
            keywords=request.keywords,
            authors=request.authors,
            created_by=event.user.id,
        )
        self.poster.poke()
        return Text(
            f"Subscribed this channel to {_info(sub).describe()} (subscription #{sub.id}). "
            "New papers will be posted here, the first ones in a moment.",
            public=True,
        )

    async def _unsubscribe(self, event: CommandInvoked, command: ParsedCommand) -> Reply:
        hint = "See the ids with `/papers subscriptions`; `/papers unsubscribe all` stops them all."
        if len(command.words) != 1:
            raise CommandError("Unsubscribe from what? Give a subscription id or `all`.", hint)
        ch = event.channel
        target = command.words[0].lstrip("#").lower()
        if target == "all":
            removed = self.store.remove_subscriptions(ch.platform, ch.workspace, ch.channel)
            if not removed:
                return Text("This channel has no subscriptions.")
            return Text(f"Removed all {removed} subscription(s) of this channel.", public=True)
        if not target.isdigit() or len(target) > 12:
            raise CommandError(f"`{target[:40]}` is not a subscription id.", hint)
        if not self.store.remove_subscriptions(ch.platform, ch.workspace, ch.channel, int(target)):
            raise CommandError(f"This channel has no subscription #{target}.", hint)
        return Text(f"Removed subscription #{target}.", public=True)

    async def _subscriptions(self, event: CommandInvoked, command: ParsedCommand) -> Reply:
        return SubscriptionList(tuple(_info(s) for s in self._channel_subscriptions(event)))


def _info(sub: Subscription) -> SubscriptionInfo:
    return SubscriptionInfo(
        id=sub.id,
        source=sub.source,
        category=sub.category,
        min_upvotes=sub.min_upvotes,
        keywords=sub.keywords,
        authors=sub.authors,
    )
