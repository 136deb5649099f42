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
from dataclasses import replace

from bot.commands import REGISTRY, CommandError, ParsedCommand, Registry
from bot.commands.lookups import SEARCH_EXAMPLE
from bot.config import Settings
from bot.events import (
    CommandInvoked,
    Event,
    PaperLinksPosted,
    ReactionChanged,
    ShareRequested,
    VotePressed,
)
from bot.linked_papers import answer as answer_links
from bot.live_cards import CardEditor
from bot.model.paper import Paper
from bot.model.search_query import QueryError
from bot.outage_notes import OutageNotes
from bot.outbox import Outbox
from bot.poster import Poster
from bot.reconcile import Reconciler
from bot.replies import Error, Reply, Text
from bot.sharing import share
from bot.sources.http import fail_fast
from bot.sources.registry import Sources
from bot.vote_buttons import press as press_vote
from bot.votes import VoteRules, record_reaction
from storage.store import Store

log = logging.getLogger(__name__)


class Bot:
    def __init__(
        self,
        store: Store,
        sources: Sources,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.time,
        commands: Registry = REGISTRY,
    ) -> None:
        self.store = store
        self.sources = sources
        self.settings = settings
        self.clock = clock
        self.commands = commands
        self.rules = VoteRules.from_settings(settings)
        self.outboxes: dict[str, Outbox] = {}
        self.poster = Poster(store, sources, settings, self.outboxes, clock)
        # Cards are edited in their own tasks, never in the poster's path.
        self.cards = CardEditor(store, self.outboxes, settings.card_edit_interval)
        self.poster.papers_changed = self.cards.papers_changed
        self.reconciler = Reconciler(store, self.rules, settings, self.outboxes, clock)
        self.reconciler.votes_changed = self.cards.votes_changed
        self.search_outages = OutageNotes()  # "can't be reached" is said once per outage
        self._tasks: list[asyncio.Task] = []
        # Papers `/papers today` shows when the list of the day can't be fetched: the console
        # sets the bundled sample, so an offline first run has something to try.
        self.sample_papers: list[Paper] = []

    def attach(self, outbox: Outbox) -> None:
        self.outboxes[outbox.platform] = outbox

    async def start(self) -> None:
        """Start auto-posting (its first round settles posts a crash left unfinished) and,
        in the background, re-read the reactions on recent posts of every platform."""
        if self._tasks:
            return
        self._tasks = [
            asyncio.create_task(self.poster.run_forever(), name="poster"),
            asyncio.create_task(self.reconciler.run_forever(), name="reconcile reactions"),
        ]
        for platform in self.outboxes:
            self.reconciler.request(platform)

    async def stop(self) -> None:
        await self.cards.stop()
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def reactions_may_be_missed(self, platform: str) -> None:
        """An adapter lost events (a new session that replays nothing): re-read reactions."""
        self.reconciler.request(platform)

    # -- events -------------------------------------------------------------------------

    def first_delivery(self, platform: str, key: str) -> bool:
        """False when a platform re-sends something already handled, by any process on the
        database within the last hour; the adapter names what stays the same (``key``)."""
        try:
            return self.store.first_delivery(platform, key)
        except Exception:  # a locked or failing database: better twice than never
            log.warning("could not check whether a %s delivery is a repeat", platform)
            return True

    def seen_delivery(self, platform: str, key: str) -> bool:
        """True when ``key`` was delivered and handled before (``first_delivery`` remembered
        it); remembers nothing, for adapters that remember only once an event is applied."""
        try:
            return self.store.seen_delivery(platform, key)
        except Exception:  # as above: better twice than never
            log.warning("could not check whether a %s delivery is a repeat", platform)
            return False

    async def handle(self, event: Event) -> None:
        """Handle one event; never raises, so one bad event cannot take an adapter down."""
        try:
            if isinstance(event, ReactionChanged):
                self.reconciler.saw_live(event)
                post = record_reaction(self.store, self.rules, event)
                if post is not None:
                    self.cards.votes_changed(post)
            elif isinstance(event, ShareRequested):
                with fail_fast():  # someone waits: an unreachable source fails at once
                    await self._respond(event, await self._share(event))
            elif isinstance(event, PaperLinksPosted):
                with fail_fast():  # an unfurl or a context menu: someone waits too
                    reply, votable = await answer_links(self, event)
                await self._respond(event, reply)
                if votable is not None:
                    await self.reconciler.read_one(votable)
            elif isinstance(event, VotePressed):
                await self._respond(event, await press_vote(self, event))
            else:
                with fail_fast():
                    await self._command(event)
        except Exception:
            log.exception("could not handle %s", type(event).__name__)
            if not isinstance(event, ReactionChanged):
                await self._respond(
                    event,
                    Error(
                        "Something went wrong on my side; nothing was changed.",
                        "Try again in a minute. If it keeps happening, tell whoever runs paperboy.",
                    ),
                )

    async def _share(self, event: ShareRequested) -> Reply:
        try:
            return await share(self, event)
        except CommandError as exc:  # e.g. neither Hugging Face nor arXiv can be reached
            return Error(exc.message, exc.hint)

    async def _respond(
        self, event: CommandInvoked | ShareRequested | PaperLinksPosted | VotePressed, reply: Reply
    ) -> None:
        try:
            await event.respond(reply)
        except Exception:
            log.exception("could not deliver a reply to %s", event.channel)

    async def _command(self, event: CommandInvoked) -> None:
        try:
            command = self.commands.parse(event.text)
            if self.commands[command.name].admin_only and not await self._is_admin(event):
                raise CommandError(
                    "Only channel or workspace admins can change subscriptions.",
                    "Ask an admin, or ask whoever runs paperboy to add you to PAPERBOY_ADMINS.",
                )
            reply = await self._dispatch(event, command)
        except CommandError as exc:
            reply = Error(exc.message, exc.hint)
        except QueryError as exc:
            reply = Error(str(exc), SEARCH_EXAMPLE)
        await self._respond(event, self._with_dm_notice(event, reply))

    def _with_dm_notice(self, event: CommandInvoked, reply: Reply) -> Reply:
        """A person whose direct messages are closed hears of it once, privately: in the
        answer to their next command (the one private channel every platform has)."""
        if reply.public or not isinstance(reply, Text | Error):
            return reply
        ch = event.channel
        try:
            if not self.store.take_dm_refusal(ch.platform, ch.workspace, event.user.id):
                return reply
        except Exception:
            log.exception("could not check for a refused direct message")
            return reply
        notice = (
            "(I couldn't send you a direct message about papers you follow: your direct "
            "messages are closed to paperboy. Open them, or `/papers unfollow all`.)"
        )
        if isinstance(reply, Text):
            return replace(reply, text=f"{reply.text}\n\n{notice}")
        return replace(reply, hint=f"{reply.hint} {notice}".strip())

    async def _is_admin(self, event: CommandInvoked) -> bool:
        user = event.user
        if user.is_admin or user.id in self.settings.admins:
            return True
        if f"{user.platform}:{user.id}" in self.settings.admins:
            return True
        return event.check_admin is not None and await event.check_admin()

    async def _dispatch(self, event: CommandInvoked, command: ParsedCommand) -> Reply:
        return await self.commands[command.name].handler(self, event, command)
