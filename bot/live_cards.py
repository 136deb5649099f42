"""Live cards: a posted card shows the team's count and the paper's HF upvotes, kept current.

When a vote or a paper's HF upvotes change, every card that shows them is marked for an
edit. Each marked card gets its own small task: it edits at once, then waits
``card_edit_interval`` before it may edit again, and it goes on until an edit has shown the
latest state. So a storm of reactions costs a card one edit per interval, and the last edit
always carries the final count.

The tasks live apart from the poster: a slow or rate-limited edit holds up only its own
card, never a posting round, and a failed edit is retried with backoff by that card alone.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Iterable

from bot.events import ChannelRef, MessageRef
from bot.model.paper import Paper
from bot.outbox import Outbox
from bot.replies import PaperCard
from storage.store import Post, Store, Tally

log = logging.getLogger(__name__)

EDIT_ATTEMPTS = 4  # per change; then the card waits for the next change
SHOWN_MEMORY = 10_000  # cards whose last shown state is remembered, to skip no-op edits


def live_card(
    store: Store, platform: str, workspace: str, paper: Paper, shared_by: str = ""
) -> PaperCard:
    """The card of ``paper`` as a channel of this workspace should show it now."""
    return card_with(paper, store.tally(platform, workspace, paper.id), shared_by)


def live_cards(
    store: Store, platform: str, workspace: str, papers: list[Paper]
) -> dict[str, PaperCard]:
    """``live_card`` of each paper, their votes counted in one query."""
    tallies = store.tallies(platform, workspace, (p.id for p in papers))
    return {p.id: card_with(p, tallies[p.id]) for p in papers}


def card_with(paper: Paper, tally: Tally, shared_by: str = "") -> PaperCard:
    return PaperCard(
        paper,
        tally.score,
        public=True,
        ups=tally.ups,
        downs=tally.downs,
        shared_by=shared_by,
    )


class CardEditor:
    def __init__(self, store: Store, outboxes: dict[str, Outbox], interval: float) -> None:
        self.store = store
        self.outboxes = outboxes
        self.interval = interval
        self.edits = 0  # edits that reached the platform
        self._dirty: set[int] = set()  # post ids whose card shows an old state
        self._workers: dict[int, asyncio.Task] = {}
        self._editing = 0
        self._shown: OrderedDict[int, PaperCard] = OrderedDict()
        self._idle = asyncio.Event()
        self._idle.set()

    # -- what changed -------------------------------------------------------------------

    def votes_changed(self, post: Post) -> None:
        """A vote on ``post``'s paper changed: every card of it in that workspace shows it."""
        self._mark(self.store.sent_posts_of(post.paper_id, post.platform, post.workspace))

    def papers_changed(self, paper_ids: Iterable[str]) -> None:
        """HF upvotes (or other card fields) of these papers changed: all their cards."""
        for paper_id in paper_ids:
            self._mark(self.store.sent_posts_of(paper_id))

    def cards_changed(self, platform: str, post_ids: Iterable[int]) -> None:
        """These sent cards on ``platform`` show an old state (a reaction's vote changed;
        the store named them in the vote's own transaction)."""
        if platform in self.outboxes:
            for post_id in post_ids:
                self._mark_one(post_id)

    def _mark(self, posts: Iterable[Post]) -> None:
        for post in posts:
            if post.platform in self.outboxes and post.message_id:
                self._mark_one(post.id)

    def _mark_one(self, post_id: int) -> None:
        self._dirty.add(post_id)
        self._idle.clear()
        if post_id not in self._workers:
            self._workers[post_id] = asyncio.create_task(
                self._work(post_id), name=f"card-edit-{post_id}"
            )

    # -- lifecycle ----------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """A card waits for an edit or is being edited."""
        return bool(self._dirty) or self._editing > 0

    async def wait_idle(self, timeout: float | None = None) -> None:
        """Return once every card shows its latest state (the console waits on this)."""
        async with asyncio.timeout(timeout):
            await self._idle.wait()

    def _check_idle(self) -> None:
        if not self.busy:
            self._idle.set()

    async def stop(self) -> None:
        workers = list(self._workers.values())
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        self._workers.clear()
        self._dirty.clear()
        self._idle.set()

    # -- one card -----------------------------------------------------------------------

    async def _work(self, post_id: int) -> None:
        try:
            while post_id in self._dirty:
                self._dirty.discard(post_id)
                self._editing += 1
                try:
                    await self._edit(post_id)
                finally:
                    self._editing -= 1
                    self._check_idle()
                # This card's next edit waits its turn; changes meanwhile join that edit.
                await asyncio.sleep(self.interval)
        finally:
            self._workers.pop(post_id, None)

    async def _edit(self, post_id: int) -> None:
        for attempt in range(EDIT_ATTEMPTS):
            # Read at the moment of editing, so the edit shows everything up to now.
            found = self._card(post_id)
            if found is None:
                return
            ref, card, outbox = found
            if self._shown.get(post_id) == card:
                return  # e.g. a second 👍 by the same user: nothing new to show
            try:
                await outbox.edit(ref, card)
            except Exception as exc:
                log.warning(
                    "could not update the card of %s in %s (try %d of %d): %s",
                    card.paper.id,
                    ref.channel,
                    attempt + 1,
                    EDIT_ATTEMPTS,
                    exc,
                )
                await asyncio.sleep(max(self.interval, 0.05) * 2**attempt)
                continue
            self.edits += 1
            self._remember(post_id, card)
            return

    def _card(self, post_id: int) -> tuple[MessageRef, PaperCard, Outbox] | None:
        post = self.store.get_post(post_id)
        if post is None or not post.message_id or post.platform not in self.outboxes:
            return None
        paper = self.store.get_paper(post.paper_id)
        if paper is None:
            return None
        card = live_card(self.store, post.platform, post.workspace, paper, post.shared_by)
        ref = MessageRef(ChannelRef(post.platform, post.workspace, post.channel), post.message_id)
        return ref, card, self.outboxes[post.platform]

    def _remember(self, post_id: int, card: PaperCard) -> None:
        self._shown[post_id] = card
        self._shown.move_to_end(post_id)
        while len(self._shown) > SHOWN_MEMORY:
            self._shown.popitem(last=False)
