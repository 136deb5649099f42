"""What a channel subscribes to, and which papers a subscription lets through."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.model.feed import Feed
from bot.model.paper import Paper
from bot.model.schedule import Schedule

# Not a paper source: the channel's own leaderboard, posted on a schedule (``team-top``).
TEAM_TOP = Feed("team-top")
DEFAULT_DIGEST_TOP = 10


@dataclass(frozen=True, kw_only=True)
class Subscription:
    """One channel's subscription to one feed, with optional filters.

    ``id`` is 0 until the store has saved it (a request parsed from a command). With a
    ``digest`` schedule its papers are not posted one by one: one message per period lists
    the ``top`` best. The ``TEAM_TOP`` feed is always a digest (of the channel's votes).
    """

    id: int = 0
    platform: str = ""
    workspace: str = ""
    channel: str = ""
    feed: Feed
    min_upvotes: int = 0
    keywords: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    taste: int = 0  # post only this many a day, the best by the channel's taste (0: all)
    digest: Schedule | None = None
    top: int = DEFAULT_DIGEST_TOP  # papers in each digest
    created_at: float = 0.0  # Unix seconds; no digest is due for a period before it

    @property
    def is_team_top(self) -> bool:
        return self.feed == TEAM_TOP

    def matches(self, paper: Paper) -> bool:
        """Every filter given must pass; within a filter, any one value is enough."""
        if self.min_upvotes and (paper.upvotes or 0) < self.min_upvotes:
            return False
        if self.keywords:
            text = f"{paper.title}\n{paper.abstract}"
            if not any(mentions(k, text) for k in self.keywords):
                return False
        if self.authors:
            names = "\n".join(paper.authors)
            if not any(mentions(a, names) for a in self.authors):
                return False
        return True

    def same_as(self, other: Subscription) -> bool:
        """Same feed and filters (filter values compared case-insensitively)."""
        return (
            self.feed == other.feed
            and self.min_upvotes == other.min_upvotes
            and {k.lower() for k in self.keywords} == {k.lower() for k in other.keywords}
            and {a.lower() for a in self.authors} == {a.lower() for a in other.authors}
            and self.taste == other.taste
            and self.digest == other.digest
            and (self.digest is None or self.top == other.top)
        )

    def describe(self, feed_text: str) -> str:
        """``feed_text`` (how the feed's source names it) followed by the filters."""
        parts = [feed_text]
        if self.min_upvotes:
            parts.append(f"min_upvotes={self.min_upvotes}")
        if self.keywords:
            parts.append("keywords=" + ",".join(self.keywords))
        if self.authors:
            parts.append("authors=" + ",".join(self.authors))
        if self.taste:
            parts.append(f"taste={self.taste}")
        if self.digest is not None and self.is_team_top:
            parts.append(str(self.digest))
        elif self.digest is not None:
            parts.append(f"digest={self.digest} top={self.top}")
        return " ".join(parts)


def mentions(needle: str, haystack: str) -> bool:
    """Whole-word, case-insensitive: `gan` must not match `organ`."""
    return re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", haystack, re.IGNORECASE) is not None
