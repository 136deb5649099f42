"""Reading a channel's history under the limits Slack sets for distributed apps.

Since 2025-05-29 Slack allows a commercially distributed app that is not in the Marketplace
one ``conversations.history`` call a minute, and at most 15 messages a call. Slack counts its
rate limits per method, workspace and app, so the minute is shared by every channel of a
workspace: ``HistoryBudget`` hands it out, and a 429 pushes the workspace's next call back by
its ``Retry-After``.

A card is looked for with the messages since its claim (``oldest``), one page per call. When
the card is not on the page and there is more, ``HistoryWalks`` remembers where the walk got
to (Slack's cursor), and the next call, a minute or a round later, carries on from there:
the post stays pending meanwhile, and is never posted twice. Cards of other papers seen on
the way are remembered too, so settling several posts of one channel costs one walk.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from bot.outbox import CheckLater

MINUTE = 60.0
LIMITED_PAGE_SIZE = 15  # Slack's maximum (and default) `limit` for these apps
SEEN_CARDS_KEPT = 10_000  # cards noticed on pages read, kept for other pending posts
WALKS_KEPT = 10_000  # walks in progress; the oldest start again from the first page


class HistoryBudget:
    """One ``conversations.history`` call per workspace per ``interval`` seconds."""

    def __init__(self, interval: float = MINUTE, clock: Callable[[], float] = time.monotonic):
        self.interval = interval
        self.clock = clock
        self._next: dict[str, float] = {}  # workspace -> when its next call may go

    def take(self, workspace: str) -> None:
        """Spend the workspace's call, or raise ``CheckLater`` if it is spent already."""
        now = self.clock()
        ready_at = self._next.get(workspace, float("-inf"))
        if now < ready_at:
            raise CheckLater(
                f"Slack allows one history read a minute here; next in {ready_at - now:.0f} s"
            )
        self._next[workspace] = now + self.interval

    def refused(self, workspace: str, retry_after: float) -> None:
        """Slack answered 429 (someone else spent the minute): the next call there goes
        ``retry_after`` seconds from now, as Slack said."""
        self._next[workspace] = self.clock() + max(retry_after, 1.0)


@dataclass(frozen=True)
class Walk:
    """How far the reading of one post's window got: the cursor of the next page, and when
    (Slack's clock, Unix seconds) the first page was read."""

    cursor: str
    started: float


PostKey = tuple[str, str, str, float]  # workspace, channel, paper id, claimed at


class HistoryWalks:
    """Walks in progress, and paperboy's cards noticed on the pages read."""

    def __init__(self) -> None:
        self._walks: dict[PostKey, Walk] = {}
        # (workspace, channel, paper id) -> ts of our card there, newest noticed last
        self._cards: OrderedDict[tuple[str, str, str], str] = OrderedDict()

    def walk(self, key: PostKey) -> Walk | None:
        return self._walks.get(key)

    def carry_on(self, key: PostKey, walk: Walk) -> None:
        self._walks[key] = walk
        while len(self._walks) > WALKS_KEPT:  # posts another process settled meanwhile
            del self._walks[next(iter(self._walks))]

    def done(self, key: PostKey) -> None:
        self._walks.pop(key, None)

    def saw_card(self, workspace: str, channel: str, paper_id: str, ts: str) -> None:
        self._cards[(workspace, channel, paper_id)] = ts
        self._cards.move_to_end((workspace, channel, paper_id))
        while len(self._cards) > SEEN_CARDS_KEPT:
            self._cards.popitem(last=False)

    def card(self, workspace: str, channel: str, paper_id: str, oldest: float) -> str | None:
        """A card of ``paper_id`` noticed in the channel, posted after ``oldest``."""
        ts = self._cards.get((workspace, channel, paper_id))
        return ts if ts is not None and float(ts) > oldest else None
