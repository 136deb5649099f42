"""Re-reading reactions, so votes cast while paperboy was not listening still count.

Reaction events only reach a running, connected bot. At start, and whenever an adapter says
events may have been missed (a Discord gateway session that could not resume), the
reactions on posts sent in the last ``RECONCILE_DAYS`` are read back from the platform and
the ledger is made to match: reactions it lacks are added, ones no longer shown removed.

It runs in the background, one post at a time (adapters pace their reads to the platform's
rate limits), and each post is applied in one short transaction, so commands, votes and
posting go on meanwhile. A live event for a message being re-read wins over what the
platform said before it: that (user, emoji) pair is left as the event made it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from bot.config import Settings
from bot.events import ChannelRef, MessageRef, ReactionChanged
from bot.outbox import Outbox
from bot.votes import VoteRules
from storage.store import Post, Store

log = logging.getLogger(__name__)

DAY = 86400.0

MessageKey = tuple[str, str, str, str]  # platform, workspace, channel, message id


@dataclass
class ReconcileReport:
    posts: int = 0  # posts whose reactions were read back
    added: int = 0
    removed: int = 0
    unreadable: int = 0  # the platform could not say (message gone, an error)


def hears(outbox: Outbox, workspace: str) -> bool:
    """Whether this process receives ``workspace``'s reaction events, and so re-reads them.

    A Discord process hears only the guilds of its shards (the process connecting a guild's
    shard re-reads it); an outbox without ``hears`` hears every workspace.
    """
    check = getattr(outbox, "hears", None)
    return check is None or check(workspace)


class Reconciler:
    def __init__(
        self,
        store: Store,
        rules: VoteRules,
        settings: Settings,
        outboxes: dict[str, Outbox],
        clock: Callable[[], float],
    ) -> None:
        self.store = store
        self.rules = rules
        self.settings = settings
        self.outboxes = outboxes
        self.clock = clock
        self.reports: dict[str, ReconcileReport] = {}  # the last finished run per platform
        self._wanted: set[str] = set()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        # Messages being re-read now, and the (user, emoji) pairs live events changed there.
        self._reading: dict[MessageKey, set[tuple[str, str]]] = {}
        # Told about every post whose votes a re-read changed (live cards show them).
        self.votes_changed: Callable[[Post], None] = lambda post: None

    @property
    def enabled(self) -> bool:
        return self.settings.reconcile_days > 0

    def request(self, platform: str) -> None:
        """Re-read ``platform``'s recent posts soon (requests made meanwhile run once)."""
        if not self.enabled:
            return
        self._wanted.add(platform)
        self._idle.clear()
        self._wake.set()

    async def wait_idle(self, timeout: float | None = None) -> None:
        """Return once no re-read is running or asked for."""
        async with asyncio.timeout(timeout):
            await self._idle.wait()

    def saw_live(self, event: ReactionChanged) -> None:
        """Note a live reaction event; called for every one, so it must stay cheap."""
        if self._reading:
            ch, message = event.target.channel, event.target.message
            changed = self._reading.get((ch.platform, ch.workspace, ch.channel, message))
            if changed is not None:
                changed.add((event.user.id, event.emoji))

    async def run_forever(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._wanted:
                platform = min(self._wanted)
                self._wanted.discard(platform)
                try:
                    await self.reconcile(platform)
                except Exception:  # a bug here must not end re-reading for good
                    log.exception("%s: re-reading reactions failed", platform)
            if not self._wanted:
                self._idle.set()

    async def reconcile(self, platform: str) -> ReconcileReport:
        report = ReconcileReport()
        outbox = self.outboxes.get(platform)
        if outbox is None or not self.enabled:
            return report
        since = self.clock() - self.settings.reconcile_days * DAY
        for post in self.store.recent_posts(platform, since):
            if hears(outbox, post.workspace):
                await self._reconcile_post(outbox, post, report)
        self.reports[platform] = report
        # Quiet when nothing could be read: the console, say, has nothing to re-read.
        log.log(
            logging.INFO if report.posts else logging.DEBUG,
            "%s: re-read the reactions on %d recent post(s): %d added, %d removed, %d unreadable",
            platform,
            report.posts,
            report.added,
            report.removed,
            report.unreadable,
        )
        return report

    async def read_one(self, post: Post) -> None:
        """Re-read the reactions on one message now (one that just became votable: reactions
        made on it before count too). Never raises."""
        outbox = self.outboxes.get(post.platform)
        if outbox is None or not self.enabled or not post.message_id:
            return
        try:
            await self._reconcile_post(outbox, post, ReconcileReport())
        except Exception:
            log.exception("%s: could not re-read the reactions on a message", post.platform)

    async def _reconcile_post(self, outbox: Outbox, post: Post, report: ReconcileReport) -> None:
        assert post.message_id is not None  # recent_posts returns sent posts only
        key = (post.platform, post.workspace, post.channel, post.message_id)
        self._reading[key] = set()
        try:
            ref = MessageRef(ChannelRef(post.platform, post.workspace, post.channel), key[3])
            try:
                shown = await outbox.reactions(ref)
            except Exception as exc:
                log.warning("%s: could not read the reactions on %s: %r", post.platform, ref, exc)
                shown = None
            if shown is None:
                report.unreadable += 1
                return
            votes = {}
            for user, emoji in shown.present:
                value = self.rules.value(emoji)
                if value != 0:
                    votes[(user, emoji)] = value
            added, removed = self.store.reconcile_reactions(
                post, votes, keep_emoji=shown.partial, leave=self._reading[key]
            )
        finally:
            del self._reading[key]
        report.posts += 1
        report.added += added
        report.removed += removed
        if added or removed:
            self.votes_changed(post)
